"""Claims about normalisation, dropout, embeddings, convolution and pooling."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

import npimpl

from . import Measured, claim, same


def _saved(t: torch.Tensor) -> list[str]:
    """The tensors the autograd node of ``t`` saved for its backward."""
    fn = t.grad_fn
    return sorted(a[len("_saved_"):] for a in dir(fn)
                  if a.startswith("_saved_") and isinstance(getattr(fn, a), torch.Tensor))


@claim("LayerNorm", "torch's autograd node saves the input, weight, bias, mean and rstd "
                    "(npimpl's cache keeps xhat and rstd instead)")
def layernorm_saved_tensors():
    ln = torch.nn.LayerNorm(4, dtype=torch.float64)
    saved = _saved(ln(torch.randn(3, 4, dtype=torch.float64, requires_grad=True)))
    m = npimpl.LayerNorm(4, dtype=np.float64)
    m(np.random.default_rng(0).standard_normal((3, 4)))
    ours = list(m._cache._fields)
    # result1 and result2 are native_layer_norm's second and third outputs: mean and rstd
    return Measured(f"NativeLayerNormBackward0 saves {saved} (result1 = mean, result2 = rstd); "
                    f"npimpl's cache: {ours}",
                    saved == ["bias", "input", "result1", "result2", "weight"])


@claim("LayerNorm", "the variance is the biased one (divide by n) and eps sits inside the "
                    "square root")
def layernorm_biased_variance():
    x = torch.tensor([[1.0, 2.0, 4.0, 7.0]], dtype=torch.float64)
    y = F.layer_norm(x, (4,), eps=0.5)
    xc = x - x.mean()
    biased = xc / torch.sqrt((xc ** 2).mean() + 0.5)
    other = xc / (torch.sqrt((xc ** 2).sum() / 3) + 0.5)
    return Measured(f"|y - (x-m)/sqrt(var_n + eps)| = {(y - biased).abs().max():.1e}; "
                    f"|y - (x-m)/(std_(n-1) + eps)| = {(y - other).abs().max():.2f}",
                    torch.allclose(y, biased, rtol=1e-14, atol=0)
                    and not torch.allclose(y, other))


@claim("RMSNorm", "the default eps is the machine epsilon of the input's dtype")
def rmsnorm_default_eps():
    x = np.array([[1e-5, -1e-5]])
    t = F.rms_norm(torch.from_numpy(x), (2,)).numpy()
    n = npimpl.RMSNorm(2, elementwise_affine=False, dtype=np.float64)(x)
    want = x / np.sqrt((x ** 2).mean() + np.finfo(np.float64).eps)
    f32 = x / np.sqrt((x ** 2).mean() + np.finfo(np.float32).eps)
    return Measured(f"rms_norm([1e-5, -1e-5]) float64 = {t[0, 0]:.6f} (eps 2.2e-16 gives "
                    f"{want[0, 0]:.6f}, float32's eps would give {f32[0, 0]:.4f}; npimpl "
                    f"{n[0, 0]:.6f})", same(t, want) and same(n, t))


@claim("BatchNorm1d", "training normalises with the biased batch variance but stores the "
                      "unbiased one in running_var, weighting the new batch by momentum")
def batchnorm_unbiased_running_var():
    x = np.random.default_rng(0).standard_normal((5, 3))
    bn = torch.nn.BatchNorm1d(3, dtype=torch.float64)
    bn(torch.from_numpy(x))
    m = npimpl.BatchNorm1d(3, dtype=np.float64)
    m(x)
    unbiased = 0.9 * 1 + 0.1 * x.var(0, ddof=1)
    biased = 0.9 * 1 + 0.1 * x.var(0)
    rv = bn.running_var.numpy()
    return Measured(f"running_var {np.array2string(rv, precision=6)}: 0.9 + 0.1 var_(n-1) = "
                    f"{np.array2string(unbiased, precision=6)}; with var_n it would be "
                    f"{np.array2string(biased, precision=6)}",
                    same(rv, unbiased) and not same(rv, biased) and same(m.running_var, rv))


@claim("InstanceNorm1d", "num_batches_tracked is registered but never incremented")
def instancenorm_counter():
    t = torch.nn.InstanceNorm1d(2, track_running_stats=True)
    t(torch.randn(3, 2, 5))
    t(torch.randn(3, 2, 5))
    m = npimpl.InstanceNorm1d(2, track_running_stats=True)
    m(np.ones((3, 2, 5), np.float32) + np.arange(5, dtype=np.float32))
    return Measured(f"after two training batches: num_batches_tracked = "
                    f"{int(t.num_batches_tracked)} (npimpl {int(m.num_batches_tracked)})",
                    int(t.num_batches_tracked) == 0 == int(m.num_batches_tracked))


@claim("Dropout", "inverted dropout: kept elements are scaled by 1/(1 - p) at training time, "
                  "eval is the identity, and p = 1 gives zeros (NaN stays NaN)")
def dropout_scaling():
    x = torch.ones(10000, dtype=torch.float64)
    y = F.dropout(x, 0.25, training=True)
    kept = y[y != 0].unique().tolist()
    ev = F.dropout(x, 0.25, training=False)
    p1 = F.dropout(torch.tensor([2.0, float("nan")], dtype=torch.float64), 1.0, training=True)
    m = npimpl.Dropout(0.25, rng=np.random.default_rng(0))
    ours = np.unique(m(np.ones(1000))[m.mask != 0])
    return Measured(f"kept values {kept} (1/(1 - 0.25) = {1 / 0.75:.6f}; npimpl "
                    f"{ours.tolist()}); eval changes nothing: {bool((ev == x).all())}; p = 1: "
                    f"{p1.tolist()}",
                    len(kept) == 1 and kept[0] == 1 / 0.75 and ours.tolist() == kept
                    and bool((ev == x).all()) and p1[0] == 0 and bool(p1[1].isnan()))


@claim("Embedding", "the padding row is not frozen, only its gradient is zero; max_norm "
                    "rewrites the weight during the forward")
def embedding_padding_and_max_norm():
    e = torch.nn.Embedding(4, 3, padding_idx=1, dtype=torch.float64)
    e(torch.tensor([1, 2, 1])).sum().backward()
    pad_grad = e.weight.grad[1].abs().max().item()
    pad_row = e.weight[1].abs().max().item()
    e2 = torch.nn.Embedding(4, 3, max_norm=0.5, dtype=torch.float64)
    with torch.no_grad():
        e2.weight.fill_(1.0)
    e2(torch.tensor([0]))
    n0, n3 = (e2.weight[i].norm().item() for i in (0, 3))
    return Measured(f"grad of the padding row: {pad_grad:g} (the row itself is "
                    f"{'zero' if pad_row == 0 else 'non-zero'}, an optimizer may still move it); "
                    f"after reading row 0 with max_norm 0.5: |row 0| = {n0:.6f}, "
                    f"|row 3| = {n3:.6f} (unread)", pad_grad == 0 and abs(n0 - 0.5) < 1e-6
                    and abs(n3 - 3 ** 0.5) < 1e-12)


@claim("Conv2d", "torch's \"convolution\" is a cross-correlation: no kernel flip")
def conv_is_correlation():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((1, 1, 2, 2))
    t = F.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()[0, 0]
    corr = np.array([[(x[0, 0, i:i + 2, j:j + 2] * w[0, 0]).sum() for j in range(3)]
                     for i in range(3)])
    conv = np.array([[(x[0, 0, i:i + 2, j:j + 2] * w[0, 0, ::-1, ::-1]).sum() for j in range(3)]
                     for i in range(3)])
    m = npimpl.Conv2d(1, 1, 2, bias=False, dtype=np.float64)
    m.weight.data[...] = w
    return Measured(f"|torch - correlation| = {np.abs(t - corr).max():.1e}, |torch - "
                    f"convolution| = {np.abs(t - conv).max():.2f}",
                    same(t, corr) and not same(t, conv) and same(m(x)[0, 0], t))


@claim("ConvTranspose2d", "the weight is stored (in, out/groups, kh, kw), the transpose of "
                          "Conv2d's layout")
def conv_transpose_layout():
    t = tuple(torch.nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape)
    c = tuple(torch.nn.Conv2d(4, 6, 3, groups=2).weight.shape)
    n = npimpl.ConvTranspose2d(4, 6, 3, groups=2).weight.shape
    return Measured(f"ConvTranspose2d(4, 6, 3, groups=2).weight {t} (npimpl {n}); "
                    f"Conv2d(4, 6, 3, groups=2).weight {c}", t == (4, 3, 3, 3) == n
                    and c == (6, 2, 3, 3))


@claim("AdaptiveAvgPool2d", "windows differ in size and may overlap: H = 5 into 3 rows gives "
                            "windows of 2, 3 and 2 rows")
def adaptive_windows():
    eye = torch.eye(5, dtype=torch.float64).reshape(5, 1, 5, 1)   # one-hot rows
    out = F.adaptive_avg_pool2d(eye, (3, 1))[:, 0, :, 0]          # (input row, window)
    sizes = [round(1 / out[:, j].max().item()) for j in range(3)]
    rows = [[i for i in range(5) if out[i, j] > 0] for j in range(3)]
    return Measured(f"window rows {rows}, sizes {sizes}", sizes == [2, 3, 2])


@claim("Linear", "the weight is stored (out, in), transposed from the x @ w a textbook writes")
def linear_layout():
    t = tuple(torch.nn.Linear(3, 5).weight.shape)
    n = npimpl.Linear(3, 5).weight.shape
    return Measured(f"Linear(3, 5).weight: torch {t}, npimpl {n}", t == (5, 3) == n)


@claim("Linear", "gradients accumulate across backward calls until zero_grad()")
def linear_accumulates():
    x = np.random.default_rng(0).standard_normal((4, 3))
    t = torch.nn.Linear(3, 2, dtype=torch.float64)
    n = npimpl.Linear(3, 2, dtype=np.float64)
    n.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    for _ in range(2):
        t(torch.from_numpy(x)).sum().backward()
        n.backward(np.ones_like(n(x)))
    once = np.ones((4, 2)).T @ x
    return Measured(f"after two backward passes: |grad - 2 * one pass| = "
                    f"{np.abs(t.weight.grad.numpy() - 2 * once).max():.1e} (npimpl "
                    f"{np.abs(n.weight.grad - 2 * once).max():.1e})",
                    same(t.weight.grad.numpy(), 2 * once) and same(n.weight.grad, 2 * once))
