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
     "mutant:article-ce-class-average"),
    ("the fused softmax + cross-entropy gradient without the `1/N` of the mean",
     "gradients N times too large: the loss is a mean, so its gradient carries 1/N",
     "mutant:article-fused-missing-1/N"),
    ("the fused loss computes `np.log(prob[range(len(y)), y])` from the softmax probabilities",
     "for a logit gap beyond ~104 (float32) or ~745 (float64) the probability underflows to 0 "
     "and the loss becomes inf; a log-softmax (x - logsumexp) stays finite",
     "catalogue:crossentropy-* with logits of 1e4"),
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


#: The article's code (line breaks restored, otherwise as published) beside ours:
#: (topic, the article's code, dotted name of the npimpl function or method shown beside it).
SIDE_BY_SIDE = [
    ("Linear: forward and backward", '''\
class Linear:
    def __init__(self, in_channels, out_channels, lr):
        self.w = np.random.rand(in_channels, out_channels)   # U(0, 1), (in, out)
        self.b = np.random.rand(out_channels)
        self.lr = lr
    def forward(self, x):
        self.x = x
        output = einsum(x, self.w, 'b c1, c1 c2 -> b c2') + self.b
        return output
    def backward(self, prev_grad):
        cur_grad = einsum(rearrange(self.x, 'b c -> c b'), prev_grad,
                          'c1 b, b c2 -> c1 c2')            # dL/dW ...
        self.w -= self.lr * cur_grad                        # the layer updates itself
        self.b -= self.lr * np.sum(prev_grad, axis=0)
        return cur_grad                                     # ... returned as dL/dx''',
     "npimpl.linear.linear_backward"),
    ("Softmax on its own", '''\
def forward(self, x):
    x_exp = np.exp(x)                                       # no max-shift: overflows
    self.output = x_xep / np.sum(x_exp, axis=1, keep_dims=True)
    return self.output
def backward(self, prev_grad):
    b, c = self.output.shape
    o = repeat(self.output, 'b c -> b c r', r=c)
    I = repeat(np.eye(x.shape[1]), 'c1 c2 -> b c1 c2', b=b)
    self.grad = o * (I - rearrange(o, 'b c1 c2 -> b c2 c1'))
    return einsum(self.grad, grad[..., None], 'b c c, b c m -> b c m')[..., 0]''',
     "npimpl.softmax.Softmax.backward"),
    ("Cross-entropy on probabilities", '''\
def forward(self, x, y):
    # x: (b, c), y: (b)
    b = y.shape[0]
    one_hot_y = np.zeros((b, self.n_classes))
    one_hot_y[range(len(y)), y] = 1
    self.grad = one_hot_y * -1 / x                          # no 1/N
    return np.mean(-one_hot_y * np.log(x), axis=0)          # a (c,) vector, not a scalar''',
     "npimpl.loss.NLLLoss.forward"),
    ("Fused softmax + cross-entropy", '''\
prob = np.exp(x - np.max(x, axis=1, keepdims=True))
prob /= np.sum(prob, axis=1, keepdims=True)
loss = -np.sum(np.log(prob[range(len(y)), y])) / len(y)   # log of a probability that
self.grad = prob.copy()                                    # can underflow to 0
self.grad[range(len(y)), y] -= 1
self.grad /= len(y)''',
     "npimpl.loss.CrossEntropyLoss.backward"),
]
