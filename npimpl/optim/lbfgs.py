"""L-BFGS with torch's iterates (``torch.optim.LBFGS``), its strong-Wolfe line search included.

A port of ``torch/optim/lbfgs.py`` line for line: the same history updates, the same
two-loop recursion, the same cubic interpolation and bracketing, the same stopping tests —
so that the iterates, and not only the minimum, agree with torch's. Scalars that torch keeps
as 0-d tensors of the parameters' dtype (the directional derivatives, ``ro``, ``H_diag``,
the step ``t`` after the first iteration) are NumPy scalars of that dtype here; the loss is
a Python float, as torch's ``float(closure())``.
"""
from __future__ import annotations

import numpy as np

from ..sparse import dense
from .optimizer import Optimizer, check_nonneg, scalar


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, f'=g1) and (x2, f2, f'=g2), clamped to
    ``bounds`` (default: between x1 and x2); their midpoint if the cubic has no minimum."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """Find t with sufficient decrease ``f(x + t d) <= f + c1 t g·d`` and curvature
    ``|g(x + t d)·d| <= -c2 g·d``: bracket by cubic extrapolation, then zoom by cubic
    interpolation (Nocedal & Wright, algorithms 3.5 and 3.6, as minFunc and torch do).
    Returns ``(f_new, g_new, t, function evaluations)``."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:                           # bracketing phase
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)            # interpolate (extrapolate)
        max_step = t * 10
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                              bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:                             # reached max number of iterations
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:              # zoom phase
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1],
                              bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))    # guard against slow progress
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    t = bracket[low_pos]
    return bracket_f[low_pos], bracket_g[low_pos], t, ls_func_evals


class LBFGS(Optimizer):
    r"""Limited-memory BFGS: each iteration steps along ``d = -H g``, where H, the inverse
    Hessian estimate, is built from the last ``history_size`` pairs (s = Δp, y = Δg) by the
    two-loop recursion; ``step(closure)`` runs up to ``max_iter`` iterations.

    Per iteration (torch's order)::

        1. first iteration: d = -g, H_diag = 1
           later: y = g - g_prev, s = d t; if y·s > 1e-10 keep (y, s, 1/y·s) (drop the oldest
           beyond history_size) and H_diag = y·s / y·y; then two loops:
               q = -g;  for i newest..oldest: a_i = ro_i s_i·q;  q -= a_i y_i
               r = H_diag q;  for i oldest..newest: b_i = ro_i y_i·r;  r += (a_i - b_i) s_i
               d = r
        2. t = min(1, 1 / sum|g|) · lr on the very first iteration, else lr
        3. stop if g·d > -tolerance_change (not a descent direction)
        4. line_search_fn None: p += t d, re-evaluate closure (unless last iteration);
           'strong_wolfe': t from :func:`strong_wolfe`, p += t d
        5. stop at max_iter, at max_eval evaluations, at max|g| <= tolerance_grad, at
           max|d t| <= tolerance_change, or when the loss changed by < tolerance_change

    Args:
        params: iterable of Parameters (one group only).
        lr: step length multiplier (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: closure evaluations per ``step`` (default max_iter * 5 // 4).
        tolerance_grad: stop when max|g| <= this (default 1e-7).
        tolerance_change: stop when a step or a loss change is below this (default 1e-9).
        history_size: (s, y) pairs kept (default 100).
        line_search_fn: None or 'strong_wolfe'.

    State (kept under the first parameter, as torch): ``func_evals``, ``n_iter``, ``d``,
    ``t``, ``old_dirs`` (y), ``old_stps`` (s), ``ro``, ``H_diag``, ``prev_flat_grad``,
    ``prev_loss``, ``al``.

    Maths:
        d_k = -H_k g_k \ \text{(two-loop recursion over the last } m \text{ pairs } s_i = p_{i+1} - p_i,\ y_i = g_{i+1} - g_i), \qquad H_k^{0} = \frac{s^\top y}{y^\top y}\, I
        p_{k+1} = p_k + t_k d_k \qquad (t_k = \eta, \text{ or from a strong-Wolfe line search})

    What torch hides:
        one ``step()`` is up to 20 iterations and 25 closure calls, not one update; the very
        first step is scaled down to ``min(1, 1/||g||_1)`` so that it cannot overshoot before
        any curvature is known; a pair (s, y) with y·s <= 1e-10 (non-convex curvature) is
        silently skipped, keeping H positive definite; and without a line search
        ``lr = 1`` trusts the quadratic model fully.
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval=None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn=None):
        check_nonneg(type(self).__name__, lr=lr)
        for k, v in dict(max_iter=max_iter, history_size=history_size).items():
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{type(self).__name__}: {k} must be an int, got {v!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"{type(self).__name__}: line_search_fn must be None or "
                             f"'strong_wolfe', got {line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError(f"{type(self).__name__}: LBFGS doesn't support per-parameter "
                             "options (parameter groups): expected one group")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError(f"{type(self).__name__}: LBFGS doesn't support per-parameter "
                             "options (parameter groups): expected one group")
        super().add_param_group(param_group)

    # -- flat views ----------------------------------------------------------------------
    def _gather_flat_grad(self) -> np.ndarray:
        for p in self._params:
            if p.grad is not None and np.shape(dense(p.grad)) != p.data.shape:
                raise ValueError(f"{type(self).__name__}: gradient of shape "
                                 f"{np.shape(dense(p.grad))} for a parameter of shape "
                                 f"{p.data.shape} (expected the same shape)")
        return np.concatenate([np.zeros(p.data.size, p.data.dtype) if p.grad is None
                               else np.asarray(dense(p.grad)).reshape(-1)
                               for p in self._params])

    def _add_grad(self, step_size, update) -> None:
        offset = 0
        for p in self._params:
            n = p.data.size
            p.data += (step_size * update[offset:offset + n]).reshape(p.data.shape)
            offset += n

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, xp in zip(self._params, x):
            p.data[...] = xp
        return loss, flat_grad

    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations; ``closure()`` must zero the gradients,
        recompute the loss and its gradients, and return the loss."""
        if closure is None:
            raise ValueError(f"{type(self).__name__}: step() needs a closure that "
                             "re-evaluates the model and returns the loss")
        group = self.param_groups[0]
        lr = scalar(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:   # optimal already
            return orig_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:                                    # 1.
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss
            if state["n_iter"] == 1:                                    # 2.
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:                                 # 3.
                break
            ls_func_evals = 0
            if group["line_search_fn"] is not None:                     # 4.
                x_init = [p.data.copy() for p in self._params]

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)
                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals                             # 5.
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
