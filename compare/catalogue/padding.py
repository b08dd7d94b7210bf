"""Padding cases: the fifteen classes, int and per-side padding, negative padding (crops) in
every mode by its own rule, pads as large as each mode allows, unbatched and any-rank inputs."""
from __future__ import annotations

import npimpl
from npimpl.padding import axis_pads, pad_backward
from reference import Spec, build

from ..badinput import Entry
from ..engine import Case
from ..gen import args, normal
from ..mutants import layer_mutant

ORDER = 42


def case(name, spec, *shape):
    return Case(name, spec.name, "padding", lambda dt: build(spec, dt), args(normal(*shape)))


CASES = [
    # zero and constant: F.pad's constant mode, any leading dims, crops by narrow
    case("zeropad1d-int", Spec("ZeroPad1d", 2), 2, 3, 4),
    case("zeropad1d-crop-unbatched", Spec("ZeroPad1d", (-1, 2)), 3, 5),
    case("zeropad2d-per-side", Spec("ZeroPad2d", (1, 0, 2, 3)), 2, 2, 3, 4),
    case("zeropad2d-crop-both", Spec("ZeroPad2d", (-1, 2, 1, -2)), 2, 2, 4, 5),
    case("zeropad2d-2d-input", Spec("ZeroPad2d", 1), 3, 4),
    case("zeropad3d-per-side", Spec("ZeroPad3d", (1, 0, 0, 2, 1, 1)), 1, 2, 2, 3, 2),
    case("constantpad1d-value", Spec("ConstantPad1d", (3, 1), 1.5), 2, 2, 4),
    case("constantpad1d-crop-all", Spec("ConstantPad1d", (-2, -1), -0.5), 2, 3, 5),
    case("constantpad2d-crop-grow", Spec("ConstantPad2d", (2, -1, -2, 1), 3.0), 2, 2, 4, 3),
    case("constantpad3d-unbatched", Spec("ConstantPad3d", 1, -2.0), 2, 2, 3, 2),
    case("constantpad3d-5d-batch", Spec("ConstantPad3d", (0, 1, 1, 0, -1, 2), 0.25), 2, 1, 3, 2, 2),
    # reflection: pads up to size - 1; a crop keeps mirroring about the original edges
    case("reflectionpad1d-int", Spec("ReflectionPad1d", 3), 2, 3, 5),
    case("reflectionpad1d-crop-mirror", Spec("ReflectionPad1d", (-1, 2)), 2, 2, 5),
    case("reflectionpad1d-crop-past-edge", Spec("ReflectionPad1d", (-6, 2)), 2, 2, 5),
    case("reflectionpad2d-per-side", Spec("ReflectionPad2d", (1, 2, 0, 3)), 2, 2, 4, 3),
    case("reflectionpad2d-unbatched-crop", Spec("ReflectionPad2d", (2, -1, -1, 2)), 3, 4, 4),
    case("reflectionpad3d", Spec("ReflectionPad3d", (1, 0, 2, 1, 1, 1)), 1, 2, 2, 3, 3),
    # replication: any pad size; each edge pixel collects its copies' gradients
    case("replicationpad1d-large", Spec("ReplicationPad1d", (4, 1)), 2, 3, 3),
    case("replicationpad1d-crop-past-edge", Spec("ReplicationPad1d", (-6, 2)), 2, 2, 5),
    case("replicationpad2d-per-side", Spec("ReplicationPad2d", (2, 0, 1, 3)), 2, 2, 3, 3),
    case("replicationpad2d-crop", Spec("ReplicationPad2d", (-1, 1, 2, -2)), 2, 4, 5),
    case("replicationpad3d", Spec("ReplicationPad3d", (1, 2, 0, 1, 2, 0)), 1, 2, 2, 2, 3),
    # circular: a pad may equal the size; a crop happens before the wrap
    case("circularpad1d-per-side", Spec("CircularPad1d", (2, 1)), 2, 3, 4),
    case("circularpad1d-pad-equals-size", Spec("CircularPad1d", (4, 4)), 2, 2, 4),
    case("circularpad1d-crop-then-wrap", Spec("CircularPad1d", (-1, 2)), 2, 2, 5),
    case("circularpad2d-per-side", Spec("CircularPad2d", (1, 2, 2, 0)), 2, 2, 3, 4),
    case("circularpad2d-unbatched-crop", Spec("CircularPad2d", (2, -2, -1, 1)), 2, 3, 5),
    case("circularpad3d", Spec("CircularPad3d", (1, 1, 0, 2, 1, 0)), 1, 2, 2, 3, 2),
]


def _entries():
    out = {}
    for mode, extra in (("Zero", ()), ("Constant", (0.5,)), ("Reflection", ()),
                        ("Replication", ()), ("Circular", ())):
        for nd in (1, 2, 3):
            name = f"{mode}Pad{nd}d"
            out[name] = Entry(Spec(name, 1, *extra), (2, 2) + (3,) * nd)
    return out


#: one valid configuration per class for the bad-input matrix (compare/badinput.py)
BAD_INPUT = _entries()


class CropOnlyReflectionPad2d(npimpl.ReflectionPad2d):
    """Padding's backward written as its inverse: cut the border off ``dy``. Right for zero
    padding, wrong for every mode whose border copies input pixels."""

    def backward(self, grad_output):
        c = self._saved()
        g = self._g(grad_output, c.out_shape, c.dtype)
        # BUG: the border's gradients belong to the pixels it mirrored, not to nobody
        return pad_backward(g, axis_pads(self.padding), "constant", c.in_shape[-2:])


MUTANTS = [
    layer_mutant("reflectionpad-backward-crops", "ReflectionPad2d.backward crops dy back to the "
                 "input's shape, as if padding's backward were its inverse, and drops the "
                 "mirrored border's gradients instead of adding them onto the pixels they copied",
                 "classic", Spec("ReflectionPad2d", (2, 1, 1, 2)), CropOnlyReflectionPad2d,
                 args(normal(2, 2, 4, 4))),
]
