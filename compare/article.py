"""The seed article's bugs, named, each with the mutant or test that catches it.

The report's article section is built from this list; a referenced mutant that
is missing from the gallery is shown as such, so the claim cannot go stale.
"""
from __future__ import annotations

#: (what the article wrote, what goes wrong, what catches it). A catcher of the form
#: ``mutant:<name>`` is looked up in the mutant gallery; anything else names a test.
BUGS = [
    ("`Linear.backward` returns `einsum(x^T, grad)` — the weight gradient",
     "the layer below receives dL/dW (shape (in, out)) instead of dL/dx = dy W; with "
     "batch = in = out the shapes even agree and training silently goes wrong",
     "mutant:article-linear-returns-dW"),
    ("standalone `Softmax.forward` is `exp(x) / sum(exp(x))` without the max-shift",
     "overflow: logits of ~90 (float32) or ~710 (float64) give inf/inf = NaN",
     "mutant:article-softmax-no-max-shift"),
    ("the separate cross-entropy returns `np.mean(-onehot * log(p), axis=0)`",
     "a vector of C per-class averages instead of one scalar: it averages over the batch per "
     "class and never sums over classes",
     "mutant:article-entropy-class-axis"),
    ("the fused softmax + cross-entropy gradient without the `1/N` of the mean",
     "gradients N times too large: the loss is a mean, so its gradient carries 1/N",
     "mutant:article-fused-ce-missing-1-over-n"),
    ("`Linear` initialises `w = np.random.rand(in, out)`",
     "U(0, 1) weights, all positive, stored (in, out): torch draws U(-1/sqrt(in), 1/sqrt(in)) "
     "and stores (out, in), so weights cannot be shared without a transpose",
     "test_linear.py::test_state_dict_layout_and_init_bound"),
    ("`Linear.backward` updates its own weights (`self.w -= self.lr * dw`)",
     "the layer is welded to plain SGD; momentum, Adam and weight decay need the gradient kept "
     "in `.grad` for an optimizer — and torch accumulates it there",
     "test_linear.py::test_backward_accumulates_and_never_updates_weights"),
    ("the standalone softmax backward builds `o * (I - o^T)` with `einsum('b c c, b c m')`",
     "a repeated output index is not a valid einsum; the Jacobian is J_ij = p_i (δ_ij - p_j) "
     "and the product must contract over i",
     "catalogue:softmax-*"),
]
