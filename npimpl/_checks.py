"""Input validation shared by every npimpl module.

Every check raises with a message that names the module, what it expected and
what it received, so that a NumPy broadcasting accident never passes silently.
"""
from __future__ import annotations

import numpy as np

#: the float dtypes npimpl computes in. float16 is refused, everywhere and on purpose: torch's
#: CPU kernels take float16 in and out but compute in float32 (``opmath_t``) and round once,
#: while NumPy rounds every operation to float16; the two drift apart by up to 15x torch's
#: own float16 tolerance (measured on 13 layers), so a float16 npimpl would be a poor oracle.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_FLOAT16 = ("float16 is not supported: torch's CPU kernels compute float16 in float32 and "
            "round once, NumPy would round every operation to float16; use float32 or float64")


def float_dtype(dtype, owner: str) -> np.dtype:
    """Return ``np.dtype(dtype)``; raise TypeError unless it is float32 or float64."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{owner}: dtype must be a NumPy float dtype such as np.float32, "
                        f"got {dtype!r}") from exc
    if dt == np.float16:
        raise TypeError(f"{owner}: dtype {_FLOAT16}, got {dt}")
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{owner}: dtype must be a NumPy float dtype (float32 or float64), "
                        f"got {dt}")
    return dt


def plain(x):
    """An ndarray subclass as the plain array torch would see: ``np.matrix`` becomes its 2-D
    array (NumPy's matrix keeps every result 2-D and makes ``*`` a matrix product) and a
    masked array its ``.data`` (``torch.as_tensor`` ignores the mask; NumPy's masked
    reductions would skip the masked elements). Anything else is returned as it is."""
    if isinstance(x, np.ndarray) and type(x) is not np.ndarray:
        return np.asarray(x)
    return x


def array(x, owner: str, name: str = "input", dtype=None) -> np.ndarray:
    """Check that ``x`` is a float ndarray (of ``dtype`` when given) and return it.

    Python lists, integer, bool, complex and object arrays are refused, as torch
    refuses to mix them with float weights.
    """
    x = plain(x)
    if not isinstance(x, np.ndarray):
        if isinstance(x, np.generic):
            x = np.asarray(x)
        else:
            raise TypeError(f"{owner}: {name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype == np.float16:
        raise TypeError(f"{owner}: {name} {_FLOAT16}, got {x.dtype}")
    if x.dtype not in FLOAT_DTYPES:
        expected = np.dtype(dtype) if dtype is not None else "a float dtype"
        raise TypeError(f"{owner}: {name} must have dtype {expected}, got {x.dtype}")
    if dtype is not None and x.dtype != np.dtype(dtype):
        raise TypeError(f"{owner}: {name} must have dtype {np.dtype(dtype)} (the module's "
                        f"dtype), got {x.dtype}")
    return x


def index_array(t, owner: str, name: str = "target") -> np.ndarray:
    """Check that ``t`` is an integer ndarray of class indices and return it as int64."""
    t = plain(t)
    if not isinstance(t, np.ndarray):
        raise TypeError(f"{owner}: {name} must be a numpy.ndarray of integer class indices, "
                        f"got {type(t).__name__}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{owner}: {name} must have an integer dtype (class indices), got {t.dtype}")
    return t.astype(np.int64, copy=False)


def grad(g, owner: str, shape: tuple, dtype, name: str = "grad_output") -> np.ndarray:
    """The upstream gradient of one forward output: a float array of exactly the output's
    ``shape`` (ValueError otherwise: a transposed or broadcastable gradient is a caller's bug,
    and torch refuses it too), cast to the output's ``dtype`` as torch's autograd engine
    casts a float32 gradient flowing into a float64 graph."""
    g = array(g, owner, name)
    if g.shape != tuple(shape):
        raise ValueError(f"{owner}: {name} must have the forward output's shape {tuple(shape)}, "
                         f"got {g.shape}")
    return g.astype(dtype, copy=False)


def labels(t, owner: str, name: str = "target", dtype=None) -> np.ndarray:
    """A label array (±1, 0/1 …) as floats of ``dtype``: a float array of that dtype, or an
    integer array, cast (torch promotes an int64 target against float inputs; a bool target
    it refuses, since ``-target`` is not defined for bool)."""
    t = plain(t)
    if isinstance(t, np.ndarray) and t.dtype.kind in "iu":
        return t.astype(dtype if dtype is not None else np.float64)
    return array(t, owner, name, dtype)


def broadcasts_to(shape: tuple, to: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to exactly ``to`` (without growing it)."""
    try:
        return np.broadcast_shapes(shape, to) == tuple(to)
    except ValueError:
        return False


def ndim(x: np.ndarray, allowed, owner: str, name: str = "input") -> None:
    """Raise ValueError unless ``x.ndim`` is in ``allowed``."""
    if x.ndim not in allowed:
        want = " or ".join(f"{n}-D" for n in allowed)
        raise ValueError(f"{owner}: {name} must be {want}, got {x.ndim}-D with shape {x.shape}")


def size(x: np.ndarray, axis: int, expected: int, owner: str, name: str = "input",
         what: str = "features") -> None:
    """Raise ValueError unless ``x.shape[axis] == expected``."""
    if x.ndim == 0 or x.shape[axis] != expected:
        raise ValueError(f"{owner}: expected {name} with {expected} {what} in dim {axis}, "
                         f"got shape {x.shape}")


def count(value, owner: str, name: str) -> int:
    """A size that may be 0 (torch builds empty tensors) but not negative: an int, or a
    ValueError naming ``owner`` (NumPy's own error, 'negative dimensions are not allowed',
    names nothing)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative int, got {value!r}")
    return int(value)


def option(value, allowed, owner: str, name: str):
    """Raise ValueError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{owner}: {name} must be one of {list(allowed)}, got {value!r}")
    return value


def dim(d: int, n: int, owner: str) -> int:
    """Normalise a possibly negative axis ``d`` for an ``n``-D array (IndexError like torch)."""
    lo, hi = (-1, 0) if n == 0 else (-n, n - 1)
    if not isinstance(d, (int, np.integer)) or not lo <= d <= hi:
        raise IndexError(f"{owner}: dim {d!r} out of range for a {n}-D input "
                         f"(expected to be in range of [{lo}, {hi}])")
    return int(d) % max(n, 1)
