"""PyTorch's own module test inputs (torch.testing._internal.common_modules.module_db) through
npimpl, for every class npimpl has: one test per class, float64, every sample (train mode, and
eval mode where torch says they differ) compared with torch at rtol 1e-10 / atol 1e-12.
A skipped sample must carry a reason from compare.module_db.SKIP_REASONS; a class in
KNOWN_FAILURES must still fail (remove it from there once fixed)."""
import pytest
import torch

import npimpl
from compare import module_db
from compare.module_db import (KNOWN_FAILURES, SKIP_REASONS, Sample, classes, counts, run_class,
                               run_sample, samples, sentence, skipped)

CLASSES = [pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_FAILURES[n], strict=True))
           if n in KNOWN_FAILURES else n for n in classes()]


@pytest.mark.parametrize("name", CLASSES)
def test_torchs_module_inputs_agree(name):
    outcomes = run_class(name)
    assert outcomes, f"torch's module_db has no sample for {name}"
    for sid, why in skipped(outcomes):                         # listed, each with its reason
        print(f"skipped {sid}: {why}")
    bad = [f"{o.sample.id}: {o.detail}" for o in outcomes if o.status == "fail"]
    assert not bad, "\n".join(bad)


def test_every_npimpl_class_torch_tests_is_covered():
    from torch.testing._internal.common_modules import module_db
    ours = set(classes())
    assert ours == {mi.module_cls.__name__ for mi in module_db} & set(npimpl.__all__)
    assert set(KNOWN_FAILURES) <= ours
    assert len(ours) >= 60


def test_the_harness_catches_a_wrong_gradient(monkeypatch):
    class OffTanh(npimpl.Tanh):
        def backward(self, grad_output):
            return super().backward(grad_output) * (1 + 1e-8)   # 1e-8: 100x the tolerance

    monkeypatch.setattr(npimpl, "Tanh", OffTanh)
    outcomes = run_class("Tanh")
    assert all(o.status == "fail" and "grad_in[0]" in o.detail for o in outcomes
               if o.sample.module_input.forward_input.args[0].numel() > 0)


def test_the_harness_catches_a_wrong_parameter_gradient(monkeypatch):
    class OffLinear(npimpl.Linear):
        def backward(self, grad_output):
            dx = super().backward(grad_output)
            self.weight.grad *= 1.001
            return dx

    monkeypatch.setattr(npimpl, "Linear", OffLinear)
    assert all(o.status == "fail" and "grad.weight" in o.detail for o in run_class("Linear"))


def test_a_skip_is_a_reason_from_the_table_and_a_crash_is_a_failure():
    from torch.testing._internal.common_modules import FunctionInput, ModuleInput
    cplx = ModuleInput(FunctionInput(3, 4), FunctionInput(torch.zeros(3, dtype=torch.complex128)))
    out = run_sample(Sample("Linear", 0, True, "complex", cplx))
    assert out.status == "skip" and SKIP_REASONS[out.detail].startswith("a complex tensor")
    wrong = ModuleInput(FunctionInput(3, 4), FunctionInput(torch.zeros(4, 7, dtype=torch.float64)))
    out = run_sample(Sample("Linear", 0, True, "wrong-features", wrong))
    assert out.status == "fail" and "Linear: expected input with 3 features" in out.detail


def test_counts_and_the_readme_sentence_add_up():
    from torch.testing._internal.common_modules import FunctionInput, ModuleInput
    wrong = ModuleInput(FunctionInput(3, 4), FunctionInput(torch.zeros(4, 7, dtype=torch.float64)))
    failing = run_sample(Sample("Linear", 0, True, "wrong-features", wrong))
    outcomes = run_class("ReLU") + [failing]          # one class passes, one fails
    c = counts(outcomes)
    assert c["samples"] == c["passed"] + c["skipped"] + c["failed"] == len(outcomes)
    assert c["classes"] == 2 and c["classes_passing"] == 1 and c["failed"] > 0
    assert sentence(c).startswith(f"1 of torch's {c['torch_classes']} module classes and "
                                  f"{c['passed']} samples pass")
    assert module_db.torch_classes() and c["torch_classes"] >= 100
