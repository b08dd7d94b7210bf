"""npimpl's default generator: a module given no ``rng`` draws from it, and
``npimpl.manual_seed`` makes those draws repeat, as ``torch.manual_seed`` does for torch."""
import numpy as np

import npimpl


def _draw():
    lin = npimpl.Linear(4, 3)
    drop = npimpl.Dropout(0.5)
    return lin.weight.data.copy(), drop(np.ones((4, 8))).copy()


def test_manual_seed_repeats_what_modules_without_an_rng_draw():
    npimpl.manual_seed(7)
    w1, m1 = _draw()
    npimpl.manual_seed(7)
    w2, m2 = _draw()
    npimpl.manual_seed(8)
    w3, m3 = _draw()
    assert np.array_equal(w1, w2) and np.array_equal(m1, m2)
    assert not np.array_equal(w1, w3) and not np.array_equal(m1, m3)


def test_a_module_built_before_the_seed_sees_the_new_stream():
    drop = npimpl.Dropout(0.5)
    npimpl.manual_seed(3)
    a = drop(np.ones((4, 8))).copy()
    npimpl.manual_seed(3)
    assert np.array_equal(a, drop(np.ones((4, 8))))


def test_an_explicit_rng_is_not_the_default_generator():
    npimpl.manual_seed(1)
    a = npimpl.Dropout(0.5, rng=np.random.default_rng(5))(np.ones((4, 8)))
    npimpl.manual_seed(2)
    b = npimpl.Dropout(0.5, rng=np.random.default_rng(5))(np.ones((4, 8)))
    assert np.array_equal(a, b)
    assert npimpl.random.generator(None) is npimpl.random.default_generator()
