"""LinearCrossEntropyLoss: the memory a chunked linear + cross-entropy saves (measured),
torch's state_dict and options, the chunk-size heuristic, and errors."""
import dataclasses
import itertools
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import npimpl
from npimpl import LinearCrossEntropyLoss, LinearCrossEntropyOptions


def peak_mib(module, x, t):
    """``(peak MiB, loss, dx)``: tracemalloc's peak over one forward + backward (NumPy reports
    its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        loss = module(x, t)
        dx = module.backward()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20, loss, dx
    finally:
        tracemalloc.stop()


def test_chunking_saves_the_memory_its_docstring_says():
    """A 32k vocabulary, 64 tokens, d = 8, float32: one logits array is 8 MiB. Unfused, forward
    + backward peak at five of them (logits, log-softmax, the target matrix, its gradient, the
    logits' gradient); in 8-row blocks the peak is within the docstring's ``6 B C + 2 C d + N d``
    elements plus one (C, d) product, and the loss and gradients are the same (measured:
    40.0 MiB vs 8.1 MiB)."""
    N, d, C, B = 64, 8, 32768, 8
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((N, d)).astype(np.float32), rng.integers(0, C, N)
    full = LinearCrossEntropyLoss(d, C)
    chunked = LinearCrossEntropyLoss(d, C, options=LinearCrossEntropyOptions(batch_chunk_size=B))
    chunked.load_state_dict(full.state_dict())
    logits_mib = N * C * 4 / 2 ** 20
    (p_full, l_full, dx_full), (p_chunked, l_chunked, dx_chunked) = (
        peak_mib(full, x, t), peak_mib(chunked, x, t))
    chunked_bound = (6 * B * C + 3 * C * d + N * d) * 4 / 2 ** 20       # 9.4 MiB
    assert p_full >= 4.5 * logits_mib
    assert p_chunked < chunked_bound and p_full / p_chunked > 4
    np.testing.assert_allclose(l_chunked, l_full, rtol=1e-6)
    np.testing.assert_allclose(dx_chunked, dx_full, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(chunked.linear.weight.grad, full.linear.weight.grad, atol=1e-7)


def test_state_dict_and_repr_follow_torch():
    ours = LinearCrossEntropyLoss(5, 10, out_features=(4, 3), bias=True, weight=np.ones(10))
    theirs = torch.nn.LinearCrossEntropyLoss(5, 10, out_features=(4, 3), bias=True,
                                             weight=torch.ones(10))
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert list(LinearCrossEntropyLoss(5, 10).state_dict()) == ["linear.weight"]
    assert [f.name for f in dataclasses.fields(LinearCrossEntropyOptions)] == \
        [f.name for f in dataclasses.fields(torch.nn.LinearCrossEntropyOptions)]


@pytest.mark.parametrize("n,d,c,method", list(itertools.product(
    [1, 7, 64, 100], [4, 64], [10, 1000], ["aspect_ratio", "aspect_ratio:2", "aspect_ratio:3"])))
def test_chunk_rows_follow_torchs_heuristic(n, d, c, method):
    ours = LinearCrossEntropyOptions(chunking_method=method).chunk_rows(n, d, c)
    theirs = torch.nn.LinearCrossEntropyOptions(chunking_method=method)._adjust(
        n, d, c, torch.float32, torch.device("cpu")).batch_chunk_size
    assert ours == theirs


def test_options_are_validated_like_torchs():
    for bad in (dict(acc_policy="fast"), dict(chunking_method="rows:2"),
                dict(batch_chunk_size=0), dict(batch_chunk_size=2.5)):
        with pytest.raises(ValueError):
            torch.nn.LinearCrossEntropyOptions(**bad)
        with pytest.raises(ValueError, match="LinearCrossEntropyOptions: "):
            LinearCrossEntropyOptions(**bad)
    with pytest.raises(ValueError, match="give different chunk sizes"):
        LinearCrossEntropyOptions(batch_chunk_size=3, chunking_method="aspect_ratio").chunk_rows(
            64, 4, 10)


def test_a_second_backward_needs_allow_retain_graph():
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 5, 6)
    m = LinearCrossEntropyLoss(4, 5, options=LinearCrossEntropyOptions(batch_chunk_size=2))
    m(x, t)
    dx = m.backward()
    with pytest.raises(RuntimeError, match="backward called twice after one forward"):
        m.backward()
    keep = LinearCrossEntropyLoss(4, 5, options=LinearCrossEntropyOptions(
        batch_chunk_size=2, allow_retain_graph=True))
    keep.load_state_dict(m.state_dict())
    keep(x, t)
    np.testing.assert_array_equal(keep.backward(), dx)
    np.testing.assert_array_equal(keep.backward(np.float32(2.0)), 2 * dx)
    np.testing.assert_allclose(keep.linear.weight.grad, 3 * m.linear.weight.grad, rtol=1e-6)


def test_options_fall_back_with_a_warning_where_torch_does():
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((4, 3)).astype(np.float32), rng.integers(0, 5, 4)
    m = LinearCrossEntropyLoss(3, 5, label_smoothing=0.1, options=LinearCrossEntropyOptions())
    ref = LinearCrossEntropyLoss(3, 5, label_smoothing=0.1)
    ref.load_state_dict(m.state_dict())
    with pytest.warns(UserWarning, match="``options`` ignored"):
        loss = m(x, t)
    np.testing.assert_array_equal(loss, ref(x, t))


def test_errors():
    with pytest.raises(ValueError, match=r"expected weight shape to be \(5,\), got \(4,\)"):
        LinearCrossEntropyLoss(3, 5, weight=np.ones(4))
    with pytest.raises(ValueError, match=r"expected label_smoothing to be in range \[0, 1\]"):
        LinearCrossEntropyLoss(3, 5, label_smoothing=1.5)
    with pytest.raises(TypeError, match="options must be None or a LinearCrossEntropyOptions"):
        LinearCrossEntropyLoss(3, 5, options={"batch_chunk_size": 4})
    # torch's own options object (what torch's module_db samples pass) is read field by field
    converted = LinearCrossEntropyLoss(
        3, 5, options=torch.nn.LinearCrossEntropyOptions(batch_chunk_size=4)).options
    assert isinstance(converted, npimpl.LinearCrossEntropyOptions)
    assert converted.batch_chunk_size == 4 and converted.chunking_method == "auto"
    m = LinearCrossEntropyLoss(3, 5, out_features=(2,), dtype=np.float64)
    with pytest.raises(ValueError, match="requires batched input"):
        m(np.zeros(3), np.zeros(2, np.int64))
    p = LinearCrossEntropyLoss(3, 5, ignore_index=0, dtype=np.float64)
    with pytest.raises(ValueError, match="ignore_index cannot be specified when target contains "
                                         "probabilities"):
        p(np.zeros((2, 3)), np.full((2, 5), 0.2))
    with pytest.raises(IndexError, match="^LinearCrossEntropyLoss: target 7 is out of bounds"):
        p(np.zeros((2, 3)), np.array([1, 7]))
    with pytest.raises(ValueError, match=r"expected input with dimensionality 1 or 2"):
        p(np.zeros((2, 2, 3)), np.array([1, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        npimpl.LinearCrossEntropyLoss(3, 5)                 # no warning without options
