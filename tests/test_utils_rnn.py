"""npimpl.utils.rnn against torch.nn.utils.rnn: packing, padding, their round trips and errors."""
import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as T

import npimpl
from npimpl.utils import rnn as R

RNG = np.random.default_rng(0)


def same_packed(p, q):
    np.testing.assert_array_equal(p.data, q.data.numpy())
    np.testing.assert_array_equal(p.batch_sizes, q.batch_sizes.numpy())
    for a, b in ((p.sorted_indices, q.sorted_indices), (p.unsorted_indices, q.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b.numpy())


@pytest.mark.parametrize("batch_first", [False, True], ids=["time-major", "batch-first"])
@pytest.mark.parametrize("lengths,enforce_sorted", [
    ([5, 3, 3, 1], True), ([2, 5, 1, 5, 3], False), ([4], True), ([3, 3, 3], False)],
    ids=["sorted", "unsorted-ties", "single", "all-equal"])
def test_pack_and_pad_match_torch(lengths, enforce_sorted, batch_first):
    x = RNG.standard_normal((max(lengths) + 1, len(lengths), 2, 3))        # (T, B, *) + a spare step
    x = np.swapaxes(x, 0, 1).copy() if batch_first else x
    p = R.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    q = T.pack_padded_sequence(torch.tensor(x), lengths, batch_first, enforce_sorted)
    same_packed(p, q)
    for total in (None, max(lengths) + 2):
        a, la = R.pad_packed_sequence(p, batch_first, padding_value=-7.0, total_length=total)
        b, lb = T.pad_packed_sequence(q, batch_first, padding_value=-7.0, total_length=total)
        np.testing.assert_array_equal(a, b.numpy())
        np.testing.assert_array_equal(la, lb.numpy())


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(side, batch_first):
    seqs = [RNG.standard_normal((n, 3)) for n in (2, 5, 1)]
    a = R.pad_sequence(seqs, batch_first, 1.5, side)
    b = T.pad_sequence([torch.tensor(s) for s in seqs], batch_first, 1.5, side)
    np.testing.assert_array_equal(a, b.numpy())


def test_pack_sequence_unpack_and_unpad_round_trip():
    seqs = [RNG.standard_normal((n, 2)) for n in (2, 4, 1)]
    p = R.pack_sequence(seqs, enforce_sorted=False)
    same_packed(p, T.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False))
    for a, b in zip(R.unpack_sequence(p), seqs):
        np.testing.assert_array_equal(a, b)
    padded = R.pad_sequence(seqs)
    before = padded.copy()
    for a, b in zip(R.unpad_sequence(padded, [2, 4, 1]), seqs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(padded, before)        # torch transposes its argument in place


def test_packed_sequence_fields_and_inverse_permutation():
    p = R.PackedSequence(np.zeros((3, 1)), [2, 1], sorted_indices=[1, 0])
    np.testing.assert_array_equal(p.unsorted_indices, [1, 0])
    assert p.batch_sizes.dtype == np.int64 and isinstance(p, tuple)
    perm = RNG.permutation(7)
    np.testing.assert_array_equal(R.invert_permutation(perm)[perm], np.arange(7))
    assert R.invert_permutation(None) is None
    q = R.PackedSequence((np.ones((2, 1)), np.array([1, 1])))      # torch's (data, sizes) form
    assert q.data.shape == (2, 1) and q.sorted_indices is None
    assert npimpl.utils.clip_grad_norm_ is not None               # the package keeps its helpers


@pytest.mark.parametrize("call,match", [
    (lambda x: R.pack_padded_sequence(x, [3, 1, 2]), "sorted in decreasing order"),
    (lambda x: R.pack_padded_sequence(x, [3, 2]), "equal to batch_size"),
    (lambda x: R.pack_padded_sequence(x, [3, 2, 0]), "greater than 0"),
    (lambda x: R.pack_padded_sequence(x, [5, 2, 1]), "must not exceed the padded length 4"),
    (lambda x: R.pack_padded_sequence(x[:, 0, 0], [1]), "at least 2-D"),
    (lambda x: R.pack_padded_sequence(x.tolist(), [3, 2, 1]), "numpy.ndarray"),
    (lambda x: R.pad_packed_sequence(R.pack_padded_sequence(x, [3, 2, 1]), total_length=2),
     "total_length"),
    (lambda x: R.pad_packed_sequence(x), "PackedSequence"),
    (lambda x: R.pad_sequence([x[0], x[0, :, :1]]), "every sequence must have shape"),
    (lambda x: R.pad_sequence([]), "empty list"),
    (lambda x: R.pad_sequence([x[0]], padding_side="up"), "padding_side"),
    (lambda x: R.unpad_sequence(x, [5, 1, 1]), "lengths within"),
], ids=["unsorted", "count", "zero", "too-long", "1d", "list", "total", "not-packed",
        "shapes", "empty", "side", "unpad-long"])
def test_bad_arguments_raise_clear_errors(call, match):
    x = RNG.standard_normal((4, 3, 2))
    with pytest.raises((ValueError, TypeError), match=match):
        call(x)


def test_torch_accepts_a_length_past_the_padding_npimpl_does_not():
    """The quirk the module docstring states: torch returns batch_sizes that overrun data."""
    q = T.pack_padded_sequence(torch.zeros(4, 3, 1), [5, 2, 1])
    assert int(q.batch_sizes.sum()) > q.data.shape[0]
    with pytest.raises(ValueError, match="must not exceed"):
        R.pack_padded_sequence(np.zeros((4, 3, 1)), [5, 2, 1])
