"""Claims are checks: every registered "What torch hides" claim runs torch (and npimpl) and
holds; a claim that does not hold, or whose check crashes, fails the report."""
import pytest

import npimpl
from compare import claims, docs
from compare.report import Run


@pytest.fixture(scope="module")
def verdicts():
    return claims.check()


def test_every_registered_claim_holds(verdicts):
    assert len(verdicts) >= 40
    bad = [f"{v.claim.layer}: {v.claim.text} -> {v.value}" for v in verdicts if not v.passed]
    assert not bad


def test_every_claim_is_about_a_public_class_and_says_what_it_measured(verdicts):
    public = docs.public_classes()
    for v in verdicts:
        assert v.claim.layer in public, v.claim.name
        assert v.value and v.claim.text and v.claim.source.startswith("compare/claims/")


@pytest.mark.parametrize("layer, words", [
    ("MultiheadAttention", "out_proj keeps Linear's default"),
    ("LSTMCell", "i, f, g, o"),
    ("LayerNorm", "saves the input, weight, bias, mean and rstd"),
    ("AdamW", "multiplied by lr"),
    ("Softmax", "saves the output"),
])
def test_the_corrected_claims_are_registered(layer, words):
    assert any(words in c.text for c in claims.for_layer(layer)), (layer, words)


def _claim(fn, layer="Linear"):
    return claims.Claim(layer, "a claim under test", fn, fn.__name__, "compare/claims/x.py", 1)


def test_a_false_claim_and_a_crashing_check_both_fail():
    def wrong():
        return claims.Measured("weight shape (3, 5)", npimpl.Linear(3, 5).weight.shape == (3, 5))

    def crashes():
        raise RuntimeError("boom")

    v_wrong, v_crash = claims.check([_claim(wrong), _claim(crashes)])
    assert not v_wrong.passed and v_wrong.value == "weight shape (3, 5)"
    assert not v_crash.passed and "RuntimeError: boom" in v_crash.value


def test_a_failed_claim_fails_the_run_like_a_deviation():
    run = Run(0, ("float64",))
    assert run.ok
    run.claims = claims.check([_claim(lambda: claims.Measured("x", False))])
    assert not run.ok and len(run.claim_failures) == 1
