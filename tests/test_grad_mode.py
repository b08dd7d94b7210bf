"""npimpl.no_grad: modules keep nothing for backward, backward says why, modes nest."""
import threading

import numpy as np
import pytest

import npimpl
from npimpl.module import NO_GRAD


def test_no_grad_drops_every_cache_and_backward_says_why():
    m = npimpl.Sequential(npimpl.Linear(3, 4), npimpl.Tanh())
    x = np.ones((2, 3), np.float32)
    with npimpl.no_grad():
        y = m(x)
    np.testing.assert_array_equal(y, m(x))                   # the same numbers either way
    with npimpl.no_grad():
        m(x)
    assert all(mod._cache is NO_GRAD for mod in m.modules())
    with pytest.raises(RuntimeError, match=r"Sequential\.backward.*no_grad"):
        m.backward(np.ones((2, 4), np.float32))
    with pytest.raises(RuntimeError, match=r"Linear\.backward.*no_grad"):
        m[0].backward(np.ones((2, 4), np.float32))
    m(x)                                                     # outside: backward works again
    assert m.backward(np.ones((2, 4), np.float32)).shape == (2, 3)


def test_modes_nest_restore_and_decorate():
    assert npimpl.is_grad_enabled()
    with npimpl.no_grad():
        assert not npimpl.is_grad_enabled()
        with npimpl.enable_grad():
            assert npimpl.is_grad_enabled()
        assert not npimpl.is_grad_enabled()
    assert npimpl.is_grad_enabled()

    @npimpl.no_grad()
    def inside():
        return npimpl.is_grad_enabled()
    assert inside() is False and npimpl.is_grad_enabled()
    with npimpl.set_grad_enabled(False):
        assert not npimpl.is_grad_enabled()
    assert npimpl.is_grad_enabled()
    npimpl.set_grad_enabled(False)
    try:
        assert not npimpl.is_grad_enabled()
    finally:
        npimpl.set_grad_enabled(True)


def test_grad_mode_is_per_thread():
    seen = []
    with npimpl.no_grad():
        t = threading.Thread(target=lambda: seen.append(npimpl.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_an_exception_inside_restores_the_mode():
    with pytest.raises(ZeroDivisionError):
        with npimpl.no_grad():
            1 / 0
    assert npimpl.is_grad_enabled()
