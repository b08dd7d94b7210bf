"""Claims about the activations and the softmax family (see each class's What torch hides)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

import npimpl

from . import Measured, claim, npimpl_grad, same, t64, torch_grad


@claim("ReLU", "the kink at 0 gets slope 0 (torch differentiates through the output), and a "
               "NaN input passes dy through")
def relu_kink_and_nan():
    x = t64(0.0, float("nan"))
    g = torch_grad(torch.relu, x)
    n = npimpl_grad(npimpl.ReLU(), x.detach().numpy())
    return Measured(f"d relu/dx at 0: {g[0]:g}; at NaN: {g[1]:g} (npimpl {n[0]:g}, {n[1]:g})",
                    g[0] == 0 and g[1] == 1 and same(n, g))


@claim("ReLU", "its forward is x < 0 ? 0 : x, so relu(-0) = -0 (NumPy's maximum(x, 0) gives +0)")
def relu_negative_zero():
    x = np.array([-0.0, 0.0])
    t = torch.relu(torch.from_numpy(x)).numpy()
    n = npimpl.ReLU()(x)
    m = np.maximum(x, 0)
    return Measured(f"signbit of relu(-0), relu(+0): torch {np.signbit(t).tolist()}, npimpl "
                    f"{np.signbit(n).tolist()}, np.maximum(x, 0) {np.signbit(m).tolist()}",
                    np.signbit(t).tolist() == [True, False]
                    and np.signbit(n).tolist() == [True, False]
                    and not np.signbit(m)[0])


@claim("LeakyReLU", "the kink at 0 takes the left slope, negative_slope")
def leaky_relu_kink():
    x = t64(0.0)
    g = torch_grad(lambda v: F.leaky_relu(v, 0.2), x)
    n = npimpl_grad(npimpl.LeakyReLU(0.2), x.detach().numpy())
    return Measured(f"slope at 0 with negative_slope 0.2: {g[0]:g} (npimpl {n[0]:g})",
                    g[0] == 0.2 and same(n, g))


@claim("Hardtanh", "the gradient is 0 at the bounds themselves (torch.clamp would pass it)")
def hardtanh_bounds():
    x = t64(-1.0, 1.0)
    g = torch_grad(F.hardtanh, x)
    c = torch_grad(lambda v: v.clamp(-1, 1), t64(-1.0, 1.0))
    n = npimpl_grad(npimpl.Hardtanh(), x.detach().numpy())
    return Measured(f"hardtanh grad at -1, 1: {g[0]:g}, {g[1]:g}; clamp's: {c[0]:g}, {c[1]:g}",
                    (g == 0).all() and (c == 1).all() and same(n, g))


@claim("Hardsigmoid", "the backward's slope is the float32 literal 1.0f / 6.0f, so even a "
                      "float64 gradient is 0.16666667163..., not 1/6")
def hardsigmoid_float32_slope():
    x = t64(0.0)
    g = torch_grad(F.hardsigmoid, x)[0]
    n = npimpl_grad(npimpl.Hardsigmoid(), x.detach().numpy())[0]
    return Measured(f"float64 grad at 0: {g:.12f} (1/6 = {1 / 6:.12f}; npimpl {n:.12f})",
                    g == float(np.float32(1) / np.float32(6)) and g != 1 / 6 and n == g)


@claim("Hardswish", "at the kinks torch takes the outer value: gradient 0 at x = -3 and 1 at "
                    "x = 3")
def hardswish_kinks():
    x = t64(-3.0, 3.0)
    g = torch_grad(F.hardswish, x)
    n = npimpl_grad(npimpl.Hardswish(), x.detach().numpy())
    return Measured(f"grad at -3: {g[0]:g}, at 3: {g[1]:g} (npimpl {n[0]:g}, {n[1]:g})",
                    g[0] == 0 and g[1] == 1 and same(n, g))


@claim("ELU", "the kink at 0 takes the left slope, alpha (not 1)")
def elu_kink():
    x = t64(0.0)
    g = torch_grad(lambda v: F.elu(v, alpha=0.5), x)
    n = npimpl_grad(npimpl.ELU(0.5), x.detach().numpy())
    return Measured(f"slope at 0 with alpha 0.5: {g[0]:g} (npimpl {n[0]:g})",
                    g[0] == 0.5 and same(n, g))


@claim("CELU", "the backward rounds alpha to float32 before 1 / alpha, even for float64: "
               "for alpha = 0.3 the gradient at x = 0 is 0.99999996, not 1")
def celu_float32_alpha():
    x = t64(0.0)
    g = torch_grad(lambda v: F.celu(v, alpha=0.3), x)[0]
    n = npimpl_grad(npimpl.CELU(0.3), x.detach().numpy())[0]
    return Measured(f"float64 grad at 0: {g:.10f} (npimpl {n:.10f})",
                    g != 1.0 and abs(g - 0.99999996) < 5e-9 and n == g)


@claim("GELU", "'tanh' is a different function, not a cheaper GELU: the largest gap is "
               "4.7e-4, near |x| = 2.7")
def gelu_tanh_gap():
    x = torch.linspace(-6, 6, 120001, dtype=torch.float64)
    gap = (F.gelu(x, approximate="tanh") - F.gelu(x)).abs()
    k = int(gap.argmax())
    ours = np.abs(npimpl.GELU("tanh")(x.numpy()) - npimpl.GELU()(x.numpy())).max()
    return Measured(f"max |gelu_tanh - gelu| = {gap[k]:.2e} at |x| = {abs(x[k]):.2f} "
                    f"(npimpl {ours:.2e})",
                    abs(float(gap[k]) - 4.7e-4) < 5e-6 and abs(abs(float(x[k])) - 2.7) < 0.05
                    and same(ours, gap[k], rtol=1e-9))


@claim("Sigmoid", "the backward reads only the saved output y, never x")
def sigmoid_saves_output():
    y = torch.sigmoid(t64(0.3, -1.0))
    saved = sorted(a for a in dir(y.grad_fn) if a.startswith("_saved_"))
    return Measured(f"SigmoidBackward0 saves {saved}", saved == ["_saved_result"])


@claim("Tanh", "the backward reads only the saved output y, never x")
def tanh_saves_output():
    y = torch.tanh(t64(0.3, -1.0))
    saved = sorted(a for a in dir(y.grad_fn) if a.startswith("_saved_"))
    return Measured(f"TanhBackward0 saves {saved}", saved == ["_saved_result"])


@claim("Softmax", "the autograd node saves the output y (not x) and the backward is the O(C) "
                  "form y (dL/dy - sum(dL/dy y)), no Jacobian")
def softmax_saves_output():
    x = t64(0.5, -1.0, 2.0)
    y = torch.softmax(x, 0)
    saved = sorted(a for a in dir(y.grad_fn) if a.startswith("_saved_") and
                   isinstance(getattr(y.grad_fn, a), torch.Tensor))
    g = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    (dx,) = torch.autograd.grad(y, x, g)
    yd = y.detach()
    o_c = yd * (g - (g * yd).sum())
    return Measured(f"saved tensors {saved}; |dx - y (g - sum(g y))| = "
                    f"{(dx - o_c).abs().max():.1e}",
                    saved == ["_saved_result"] and torch.allclose(dx, o_c, rtol=0, atol=1e-15))


@claim("Softmax", "subtracting the max keeps exp finite: logits of 1e4 give a probability "
                  "vector, exp(x) / sum exp(x) gives NaN")
def softmax_max_shift():
    x = np.array([1e4, 1e4 - 1.0, 0.0])
    t = torch.softmax(torch.from_numpy(x), 0).numpy()
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(x) / np.exp(x).sum()
    n = npimpl.Softmax(0)(x)
    return Measured(f"torch {np.array2string(t, precision=4)}, npimpl "
                    f"{np.array2string(n, precision=4)}, naive {naive}",
                    np.isfinite(t).all() and np.isnan(naive).any() and same(n, t))


@claim("Softmin", "softmin(x) is literally softmax(-x)")
def softmin_is_softmax_of_minus():
    x = torch.randn(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    d = (F.softmin(x, 1) - torch.softmax(-x, 1)).abs().max().item()
    return Measured(f"max |softmin(x) - softmax(-x)| = {d:g}", d == 0)


@claim("LogSoftmax", "log(softmax(x)) underflows to log(0) = -inf where log_softmax stays "
                     "finite")
def logsoftmax_underflow():
    x = torch.tensor([0.0, 800.0], dtype=torch.float64)
    naive = torch.log(torch.softmax(x, 0))[0].item()
    fused = torch.log_softmax(x, 0)[0].item()
    n = npimpl.LogSoftmax(0)(x.numpy())[0]
    return Measured(f"logits (0, 800): log(softmax)[0] = {naive}, log_softmax[0] = {fused:g} "
                    f"(npimpl {n:g})", np.isinf(naive) and fused == -800 and n == fused)


@claim("Softplus", "the switch to the identity is strict: beta x == threshold still takes "
                   "the log1p branch")
def softplus_threshold():
    x = torch.tensor([20.0, 20.5], dtype=torch.float64)
    y = F.softplus(x)
    n = npimpl.Softplus()(x.numpy())
    at, above = (y - x).tolist()
    return Measured(f"softplus(20) - 20 = {at:.3g} (log1p(exp(-20)) = {np.log1p(np.exp(-20)):.3g}"
                    f"); softplus(20.5) - 20.5 = {above:g} (npimpl {n[0] - 20:.3g}, "
                    f"{n[1] - 20.5:g})", abs(at - np.log1p(np.exp(-20))) < 1e-15 and above == 0
                    and same(n, y.numpy()))
