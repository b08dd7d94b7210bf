window.BOOK_INDEX = [
{
"name": "Module",
"family": "Core layers",
"href": "Module.html",
"summary": "Base class of every npimpl layer, loss and model (mirrors torch.nn.Module).",
"text": "Base class of every npimpl layer, loss and model (mirrors torch.nn.Module)."
},
{
"name": "Parameter",
"family": "Core layers",
"href": "Parameter.html",
"summary": "A trainable array: .data (the value) and .grad (None until a backward).",
"text": "A trainable array: .data (the value) and .grad (None until a backward)."
},
{
"name": "Sequential",
"family": "Core layers",
"href": "Sequential.html",
"summary": "Chain modules: y = m_k(... m_1(m_0(x))); children are named '0', '1', ….",
"text": "Chain modules: y = m_k(... m_1(m_0(x))); children are named '0', '1', …. runs the children's backward in reverse order, each receiving the gradient returned by the module after it. nothing but bookkeeping: torch's Sequential is this loop; the children's names are the state_dict prefixes (0.weight), so inserting a layer renames every key after it."
},
{
"name": "Identity",
"family": "Core layers",
"href": "Identity.html",
"summary": "y = x; accepts and ignores any constructor arguments, like torch.",
"text": "y = x; accepts and ignores any constructor arguments, like torch. dx = dy (of the output's shape; cast to the input's dtype, as autograd casts)"
},
{
"name": "Linear",
"family": "Core layers",
"href": "Linear.html",
"summary": "Applies an affine map to the last dimension: y = x W^T + b.",
"text": "Applies an affine map to the last dimension: y = x W^T + b. y = x W^top + b, qquad y_{mj} = sum_i x_{mi} W_{ji} + b_j dx = dy W; dW += dy^T x (summed over every leading dim); db += sum(dy) the weight is stored (out, in) — transposed from the x @ w a textbook writes — so that each output unit's weights are one contiguous row; the layer never updates its own weights (an optimizer does, which is what makes momentum, Adam and weight decay possible without touching the layer), and gradients accumulate across backward calls until zero_grad()."
},
{
"name": "Flatten",
"family": "Core layers",
"href": "Flatten.html",
"summary": "Merge dims start_dim..end_dim into one: (N, C, H, W) → (N, C*H*W).",
"text": "Merge dims start_dim..end_dim into one: (N, C, H, W) → (N, C*H*W). dx = dy reshaped back to the input's shape (no arithmetic at all); dy must have the output's shape (a transposed dy of the same size would be scrambled by the reshape). Flatten defaults to start_dim=1 while torch.flatten defaults to 0; on a 0-D input the output is 1-D; autograd casts a float32 dy flowing into a float64 graph to float64, so dx has the input's dtype."
},
{
"name": "Unflatten",
"family": "Core layers",
"href": "Unflatten.html",
"summary": "Split dim dim into unflattened_size: (N, 12) → (N, 3, 4).",
"text": "Split dim dim into unflattened_size: (N, 12) → (N, 3, 4). dx = dy reshaped back to the input's shape (dy must have the output's shape)."
},
{
"name": "no_grad",
"family": "Core layers",
"href": "no_grad.html",
"summary": "Context manager (and decorator) under which modules cache nothing for backward.",
"text": "Context manager (and decorator) under which modules cache nothing for backward. torch.no_grad() changes more than memory: in eval mode a module may take a different code path (TransformerEncoderLayer's fused kernel, TransformerEncoder's nested tensors, whose padded output rows are zeros)."
},
{
"name": "enable_grad",
"family": "Core layers",
"href": "enable_grad.html",
"summary": "Re-enable caching inside a no_grad block (torch.enable_grad).",
"text": "Re-enable caching inside a no_grad block (torch.enable_grad)."
},
{
"name": "set_grad_enabled",
"family": "Core layers",
"href": "set_grad_enabled.html",
"summary": "Set the grad mode: as a call (set_grad_enabled(False)) or a context manager (restoring the previous mode on exit), as torch.set_grad_enabled.",
"text": "Set the grad mode: as a call (set_grad_enabled(False)) or a context manager (restoring the previous mode on exit), as torch.set_grad_enabled."
},
{
"name": "ModuleDict",
"family": "Core layers",
"href": "ModuleDict.html",
"summary": "Holds modules in an ordered dict; the module that owns it decides how they are called.",
"text": "Holds modules in an ordered dict; the module that owns it decides how they are called. none of its own: the owner runs the backward of the entries it used. the key is the state_dict prefix (heads.query.weight), so it must be a non-empty string without '.', and not the name of a Module attribute ('train', 'forward': torch raises \"attribute already exists\"). update keeps the order of a plain dict, unlike ParameterDict, which sorts it."
},
{
"name": "ModuleList",
"family": "Core layers",
"href": "ModuleList.html",
"summary": "Holds modules in a list; the module that owns it decides how they are called.",
"text": "Holds modules in a list; the module that owns it decides how they are called. none of its own: the owner runs its children's backward in reverse order of use. the list index *is* the state_dict key (layers.0.weight), so deleting or inserting an entry renumbers every entry after it, and a checkpoint saved before no longer lines up. torch's insert does no bounds check (insert(10, m) on 3 entries leaves the keys 0, 1, 2, 10 and len 4, so [3] fails); npimpl inserts like list.insert."
},
{
"name": "ParameterDict",
"family": "Core layers",
"href": "ParameterDict.html",
"summary": "Holds parameters in an ordered dict; an ndarray added to it becomes a :class:Parameter.",
"text": "Holds parameters in an ordered dict; an ndarray added to it becomes a :class:Parameter. none of its own: the owner accumulates each parameter's gradient. a plain dict given to the constructor or to update is added in *sorted* key order ({'b': .., 'a': ..} lists 'a' first, so named_parameters and the state_dict follow the alphabet), while an OrderedDict, a ParameterDict or a list of pairs keeps its order; ModuleDict never sorts."
},
{
"name": "ParameterList",
"family": "Core layers",
"href": "ParameterList.html",
"summary": "Holds parameters in a list; an ndarray added to it becomes a :class:Parameter.",
"text": "Holds parameters in a list; an ndarray added to it becomes a :class:Parameter. none of its own: the owner accumulates each parameter's gradient. the entries are named '0', '1', … (scales.1 in a state_dict); a plain tensor is wrapped into a *new* Parameter, so the container does not share memory semantics with a tensor you keep; there is no insert, pop or del."
},
{
"name": "Bilinear",
"family": "Distances and bilinear maps",
"href": "Bilinear.html",
"summary": "y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o].",
"text": "y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]. dx1 = sum_oj dy_o W_oij x2_j; dx2 = sum_oi dy_o W_oij x1_i; dW += sum_n dy_no x1_ni x2_nj (an outer product per sample); db += sum(dy). backward(g) returns (g_input1, g_input2). the init bound uses only in1_features (1/sqrt(weight.size(1))), whatever in2 is; the two inputs must agree exactly in their leading dims ((5, 2) with (1, 3) is refused, though elsewhere torch broadcasts). The forward is _trilinear, a generic contraction; here two einsums."
},
{
"name": "CosineSimilarity",
"family": "Distances and bilinear maps",
"href": "CosineSimilarity.html",
"summary": "y = sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim.",
"text": "y = sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim. with u = x1 / c1 and v = x2 / c2: du = dy v; dx1 = du / c1 + x1 / ||x1|| * sum(-du * u / c1) (the second term through the norm, 0 where ||x1|| = 0); symmetric for x2; each summed back to its input's shape. each input is normalised *before* the dot product, which keeps the result within [-1, 1] (older releases divided x1 . x2 by sqrt(max(|x1|^2 |x2|^2, eps^2)), a different value once a norm is below eps). The floor is applied in place under no_grad: a vector shorter than eps is divided by eps, but the gradient still flows through its true norm, as if unclamped, and the zero vector gets no gradient through its norm at all (norm_backward masks x / 0)."
},
{
"name": "PairwiseDistance",
"family": "Distances and bilinear maps",
"href": "PairwiseDistance.html",
"summary": "y = ||x1 - x2 + eps||_p over the last dimension.",
"text": "y = ||x1 - x2 + eps||_p over the last dimension. with d = x1 - x2 + eps and n = ||d||_p: dd = dy * d |d|^(p-2) / n^(p-1) (p = 2: dy d / n; p = 1: dy sgn(d); ±inf: dy split equally among the elements with |d| = n; p = 0: 0); dx1 = dd, dx2 = -dd, each summed back to its input's shape. Where n = 0 the gradient is 0 (for p >= 1). eps is *added to the difference*, not used as a floor for the norm: even identical inputs are eps * D^(1/p) apart (2e-6 for D = 4), and the sign of eps makes the distance asymmetric, d(x1, x2) != d(x2, x1). The norm is over the last dim of the *broadcast* shape (older releases used dim 1). Its backward is torch's norm_backward, one formula per range of p; for p < 1 the elements with d = 0 get 0."
},
{
"name": "Hardsigmoid",
"family": "Activations",
"href": "Hardsigmoid.html",
"summary": "y = min(max(x + 3, 0), 6) / 6.",
"text": "y = min(max(x + 3, 0), 6) / 6. y = frac{min(max(x + 3, 0), 6)}{6} dx = dy * float32(1/6) * [-3 < x < 3] (0 at x = -3 and at x = 3) the slope is 1/6, not the 0.2 of Keras's hard_sigmoid; at both kinks the gradient is 0 (open interval). The backward kernel spells the slope 1.0f / 6.0f, a float32 literal, so even float64 gradients are scaled by 0.16666667163..., 3e-8 relative away from 1/6 (the forward divides by 6)."
},
{
"name": "Hardswish",
"family": "Activations",
"href": "Hardswish.html",
"summary": "y = x * min(max(x + 3, 0), 6) / 6.",
"text": "y = x * min(max(x + 3, 0), 6) / 6. y = x cdot frac{min(max(x + 3, 0), 6)}{6} dx = dy * (0 if x <= -3; x/3 + 1/2 if -3 < x < 3; 1 if x >= 3) (NaN: NaN) the derivative jumps at both kinks (from 0 to -1/2 at -3, from 3/2 to 1 at 3) and torch 2.x takes the *outer* value at both: 0 at x = -3 and 1 at x = 3. Older releases (x < -3 / x <= 3) returned -1/2 and 3/2 there. A NaN input gets a NaN gradient from torch's SIMD loop (both tests are false, so the middle formula runs) but dy from its scalar loop for the last few elements; npimpl gives NaN everywhere."
},
{
"name": "Hardtanh",
"family": "Activations",
"href": "Hardtanh.html",
"summary": "y = clamp(x, min_val, max_val).",
"text": "y = clamp(x, min_val, max_val). y = min(max(x, text{min\\_val}), text{max\\_val}) dx = dy * [min_val < x < max_val] (0 at both bounds exactly) hardtanh_backward zeroes the gradient at the bounds themselves (the test is x <= min_val or x >= max_val), so an input sitting exactly on a bound stops learning, while torch.clamp would pass the gradient there. At a NaN input torch's answer depends on where the element sits: its SIMD loop gives 0, its scalar loop for the last few elements (x <= min or x >= max is false for NaN) gives dy; npimpl gives 0 everywhere."
},
{
"name": "LeakyReLU",
"family": "Activations",
"href": "LeakyReLU.html",
"summary": "y = x if x > 0 else negative_slope * x.",
"text": "y = x if x > 0 else negative_slope * x. y = begin{cases} x & x > 0 \\\\ a\\,x & x le 0 end{cases}, quad a = text{negative\\_slope} dx = dy * (1 if x > 0 else negative_slope) (at x = 0: negative_slope) unlike ReLU, the kink at 0 takes the *left* slope: leaky_relu_backward tests x > 0, so x = 0 gets negative_slope, not 1."
},
{
"name": "ReLU",
"family": "Activations",
"href": "ReLU.html",
"summary": "y = max(x, 0).",
"text": "y = max(x, 0). y = max(x, 0) dx = dy * [x > 0] (at x = 0 exactly the gradient is 0, torch's choice; NaN: dy) torch differentiates through the *output* (threshold_backward(dy, y, 0)), so the kink at 0 gets slope 0, not 1 and not 0.5. Its test is y <= 0 ? 0 : dy, so a NaN input passes dy through (y > 0 would block it). Its forward is x < 0 ? 0 : x, so relu(-0) = -0 (NumPy's maximum(x, 0) gives +0)."
},
{
"name": "ReLU6",
"family": "Activations",
"href": "ReLU6.html",
"summary": "y = min(max(x, 0), 6): Hardtanh(0, 6).",
"text": "y = min(max(x, 0), 6): Hardtanh(0, 6). y = min(max(x, 0), 6) dx = dy * [0 < x < 6] (0 at x = 0 and at x = 6) ReLU6 *is* a Hardtanh subclass in torch, so at x = 0 it inherits Hardtanh's zero and agrees with ReLU; at x = 6 the gradient is 0 too."
},
{
"name": "Sigmoid",
"family": "Activations",
"href": "Sigmoid.html",
"summary": "y = 1 / (1 + exp(-x)).",
"text": "y = 1 / (1 + exp(-x)). y = sigma(x) = frac{1}{1 + e^{-x}} dx = dy * y * (1 - y) the backward uses only the saved output y, never x."
},
{
"name": "Tanh",
"family": "Activations",
"href": "Tanh.html",
"summary": "y = tanh(x).",
"text": "y = tanh(x). y = tanh x = frac{e^{x} - e^{-x}}{e^{x} + e^{-x}} dx = dy * (1 - y^2) like Sigmoid, the backward reads only the saved output."
},
{
"name": "CELU",
"family": "Activations",
"href": "CELU.html",
"summary": "y = x if x > 0 else alpha * (exp(x / alpha) - 1).",
"text": "y = x if x > 0 else alpha * (exp(x / alpha) - 1). dx = dy * (1 if x > 0 else alpha * s * exp(s * x)), s = 1 / float32(alpha) (mathematically exp(x / alpha), and 1 at x = 0) CELU runs the ELU kernel with input_scale = 1 / alpha, and its backward (derivatives.yaml: 1.0 / alpha.toFloat()) rounds alpha to *float32* before the division even for float64 tensors: for alpha = 0.3 the float64 gradient at x = 0 is 0.99999996, not 1, and is off by up to 1e-6 relative elsewhere. The forward uses the exact double 1 / alpha. This module copies both choices."
},
{
"name": "ELU",
"family": "Activations",
"href": "ELU.html",
"summary": "y = x if x > 0 else alpha * (exp(x) - 1).",
"text": "y = x if x > 0 else alpha * (exp(x) - 1). y = begin{cases} x & x > 0 \\\\ alpha (e^{x} - 1) & x le 0 end{cases} dx = dy * (1 if x > 0 else alpha * exp(x)) (at x = 0: alpha; NaN: NaN) ELU, SELU and CELU are one kernel, elu(x, alpha, scale, input_scale) = scale * x for x > 0, scale * alpha * (exp(input_scale * x) - 1) else; its backward tests x <= 0, so at x = 0 the slope is alpha, not 1 (the two agree only for alpha = 1). A NaN input gets a NaN gradient from the SIMD loop (its test is x > 0, false, so exp(NaN) runs) but dy * scale from the scalar loop for the last few elements (x <= 0 is false too); npimpl gives NaN everywhere."
},
{
"name": "GELU",
"family": "Activations",
"href": "GELU.html",
"summary": "y = x * Phi(x), Phi the standard normal CDF (or its tanh approximation).",
"text": "y = x * Phi(x), Phi the standard normal CDF (or its tanh approximation). y = x\\,Phi(x), quad Phi(x) = tfrac{1}{2}left(1 + mathrm{erf}(x/sqrt{2})right) text{tanh: } y = tfrac{x}{2}left(1 + tanh uright), quad u = sqrt{2/pi}\\,(x + 0.044715\\, x^3) 'none': dx = dy * (Phi(x) + x * exp(-x^2/2) / sqrt(2 pi)); 'tanh': with u = sqrt(2/pi) (x + 0.044715 x^3), T = tanh(u): dx = dy * (1/2 (1 + T) + x/2 (1 - T^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)). 'tanh' is not a cheaper GELU but a different function (max gap 4.7e-4 near |x| = 2.7): GPT-2's checkpoints were trained with it, so loading them into approximate='none' silently shifts every activation. The exact form needs erf, which plain NumPy lacks (here: fdlibm's, vectorised, for float64; for float32 a float32 approximation, npimpl._gelu, as torch's own float32 kernel is one)."
},
{
"name": "SELU",
"family": "Activations",
"href": "SELU.html",
"summary": "y = scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha = 1.6733, scale = 1.0507.",
"text": "y = scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha = 1.6733, scale = 1.0507. dx = dy * scale * (1 if x > 0 else alpha * exp(x)) (at x = 0: scale * alpha = 1.7581) the two constants are the fixed point of Klambauer et al.'s self-normalising argument, given to 30 digits in torch's source; like ELU the kink at 0 takes the left slope, here scale * alpha."
},
{
"name": "Mish",
"family": "Activations",
"href": "Mish.html",
"summary": "y = x * tanh(softplus(x)), softplus(x) = log(1 + exp(x)).",
"text": "y = x * tanh(softplus(x)), softplus(x) = log(1 + exp(x)). y = x tanh(mathrm{softplus}(x)) dx = dy * (T + x * sigmoid(x) * (1 - T^2)), T = tanh(softplus(x)) torch's Mish always uses the plain softplus (beta 1, no threshold); exp(x) overflows to inf for large x, and tanh(inf) = 1 makes that harmless. Here tanh(softplus(x)) is the rational (e^2 + 2e) / (e^2 + 2e + 2), e = exp(x) (npimpl._pointwise.tanh_softplus: no log, no overflow)."
},
{
"name": "SiLU",
"family": "Activations",
"href": "SiLU.html",
"summary": "y = x * sigmoid(x) (also called swish).",
"text": "y = x * sigmoid(x) (also called swish). y = x\\,sigma(x) dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x) torch's kernel computes x / (1 + exp(-x)), which gives x / inf = -0 for very negative x; the stable sigmoid used here gives the same values."
},
{
"name": "Softplus",
"family": "Activations",
"href": "Softplus.html",
"summary": "y = log(1 + exp(beta * x)) / beta, and y = x where beta * x > threshold.",
"text": "y = log(1 + exp(beta * x)) / beta, and y = x where beta * x > threshold. y = frac{1}{beta}logleft(1 + e^{beta x}right) dx = dy * z / (z + 1), z = exp(beta * x); dx = dy where beta * x > threshold (at beta * x == threshold exactly: the smooth branch, z / (z + 1)). the switch to the identity is a *numerical* shortcut with a jump of about exp(-threshold) in value and slope; it is strict (>), so the threshold itself takes the log1p branch. Nothing else guards exp: with a threshold above about 709 (float64) torch's value overflows to inf and its gradient to inf/inf = NaN, and so does this one."
},
{
"name": "LogSoftmax",
"family": "Activations",
"href": "LogSoftmax.html",
"summary": "y_i = x_i - m - log(sum_j exp(x_j - m)) along dim (m = max_j x_j).",
"text": "y_i = x_i - m - log(sum_j exp(x_j - m)) along dim (m = max_j x_j). y_i = x_i - log sum_j e^{x_j} = (x_i - m) - log sum_j e^{x_j - m} with g = dL/dy: dL/dx = g - softmax(x) * sum(g), softmax(x) = exp(y) CrossEntropyLoss is NLLLoss(LogSoftmax(x)) fused: computing the log of a softmax directly would underflow to log(0) = -inf."
},
{
"name": "Softmax",
"family": "Activations",
"href": "Softmax.html",
"summary": "y_i = exp(x_i - m) / sum_j exp(x_j - m) along dim, with m = max_j x_j.",
"text": "y_i = exp(x_i - m) / sum_j exp(x_j - m) along dim, with m = max_j x_j. y_i = frac{e^{x_i - m}}{sum_j e^{x_j - m}}, quad m = max_j x_j with g = dL/dy the upstream gradient: the Jacobian is J_ij = ∂y_i/∂x_j = y_i (delta_ij - y_j) and dL/dx_j = sum_i J_ij g_i. The same product in O(C) without building J: dL/dx = y * (g - sum(g * y)). softmax is never differentiated through a Jacobian in torch: its _softmax_backward_data uses the O(C) form. Subtracting the max changes nothing mathematically but keeps exp finite for logits of 1e4; the article's standalone Softmax skips it and returns NaN there."
},
{
"name": "Softmin",
"family": "Activations",
"href": "Softmin.html",
"summary": "y = softmax(-x) along dim: the smallest input gets the largest weight.",
"text": "y = softmax(-x) along dim: the smallest input gets the largest weight. with g = dL/dy: dL/dx = -y * (g - sum(g * y)): the softmax backward at -x, times the -1 of the negation. F.softmin is literally (-input).softmax(dim): the max-shift happens on -x, so it subtracts the *min* of x."
},
{
"name": "Hardshrink",
"family": "Activations",
"href": "Hardshrink.html",
"summary": "y = x if |x| > lambd else 0.",
"text": "y = x if |x| > lambd else 0. dx = dy * [|x| > lambd] (0 at x = ±lambd exactly; NaN: 0) the band is closed: x = ±lambd gives 0 and no gradient. A negative lambd is accepted and makes the band empty (the identity), while Softshrink refuses it. At a NaN input the gradient depends on where the element sits in torch (0 from the SIMD loop, dy from the scalar loop for the last few elements); npimpl gives 0 everywhere, as for Hardtanh."
},
{
"name": "Softshrink",
"family": "Activations",
"href": "Softshrink.html",
"summary": "y = x - lambd if x > lambd; x + lambd if x < -lambd; 0 otherwise.",
"text": "y = x - lambd if x > lambd; x + lambd if x < -lambd; 0 otherwise. dx = dy * [|x| > lambd] (0 at x = ±lambd exactly; NaN: 0) this is the proximal operator of lambd * |x| (ISTA's soft thresholding): the slope is 1 outside the band, not shrunk, so only the offset changes. torch checks lambd >= 0 at the first forward (lambda must be in range [0, ...]); npimpl at construction. With lambd = 0 the function is the identity, but the band [-0, 0] is still closed: x = ±0 gets gradient 0 where the slope is 1 on both sides. A NaN input stays NaN in the forward; its gradient follows Hardshrink's."
},
{
"name": "Tanhshrink",
"family": "Activations",
"href": "Tanhshrink.html",
"summary": "y = x - tanh(x).",
"text": "y = x - tanh(x). dx = dy - dy * (1 - t^2), t = tanh(x) (mathematically dy * t^2) there is no Tanhshrink kernel: F.tanhshrink is x - x.tanh(), and autograd adds the two branches, dy and tanh_backward(-dy, t) = -dy (1 - t^2). For small |x| that is a difference of two numbers near dy, so the gradient ~dy x^2 keeps only an *absolute* accuracy of eps |dy| (relative 1e-6 at x = 1e-5 in float64); dy * t^2 would be accurate to the last bit. npimpl computes torch's form."
},
{
"name": "Threshold",
"family": "Activations",
"href": "Threshold.html",
"summary": "y = x if x > threshold else value.",
"text": "y = x if x > threshold else value. dx = dy * [x > threshold] (0 at x = threshold exactly; NaN: dy) ReLU is Threshold(0, 0): both run threshold_backward, whose test is x <= threshold ? 0 : dy, so a NaN input passes dy through in torch's SIMD and scalar loops alike, and keeps its NaN in the forward. Both arguments are required (no defaults), and value need not be the threshold: Threshold(0.1, 20) maps everything below 0.1 *up* to 20, a jump the gradient ignores."
},
{
"name": "GLU",
"family": "Activations",
"href": "GLU.html",
"summary": "GLU(a, b) = a * sigmoid(b), where a, b are the two halves of the input along dim.",
"text": "GLU(a, b) = a * sigmoid(b), where a, b are the two halves of the input along dim. with s = sigmoid(b): da = dy * s; db = (1 - s) * s * a * dy; dx = concat(da, db) along dim. the first half is the *value* and the second the *gate* (Dauphin et al., 2017), so swapping the halves of a Linear's output changes the function; F.glu halves an odd dimension nowhere (\"Halving dimension must be even\") and refuses a 0-d input. The backward kernel computes the gate s once into the first half of the gradient buffer and reuses it for the second half."
},
{
"name": "LogSigmoid",
"family": "Activations",
"href": "LogSigmoid.html",
"summary": "y = log(1 / (1 + exp(-x))) = min(x, 0) - log1p(exp(-|x|)).",
"text": "y = log(1 / (1 + exp(-x))) = min(x, 0) - log1p(exp(-|x|)). with z = exp(-|x|): dx = dy * (1 - z / (1 + z)) for x < 0 and dx = dy * z / (1 + z) for x >= 0 (both are sigmoid(-x)). the naive log(sigmoid(x)) gives -inf below x = -745 (float64; -104 in float32) and a gradient of NaN; min(x, 0) - log1p(exp(-|x|)) never overflows or underflows: for x = -1000 it is -1000 exactly, with gradient 1. torch's kernel saves z = exp(-|x|) as a hidden buffer output for its backward; here it is recomputed from x."
},
{
"name": "Softsign",
"family": "Activations",
"href": "Softsign.html",
"summary": "y = x / (1 + |x|).",
"text": "y = x / (1 + |x|). dx = dy / b - dy * ((x / b) / b) * sgn(x) with b = 1 + |x| (mathematically dy / (1 + |x|)^2). there is no Softsign kernel: F.softsign is x / (x.abs() + 1) and autograd differentiates the division and the abs: the numerator's branch dy / b and the denominator's -dy x / b^2 * sgn(x) are added. For large |x| they cancel to dy / x^2, so the gradient keeps an absolute accuracy of eps |dy| / |x| rather than a relative one. Unlike tanh the curve approaches ±1 only polynomially (1/|x|), so its gradient never vanishes to 0 in floating point."
},
{
"name": "PReLU",
"family": "Activations",
"href": "PReLU.html",
"summary": "y = x if x > 0 else a * x, with a learned slope a (one, or one per channel).",
"text": "y = x if x > 0 else a * x, with a learned slope a (one, or one per channel). dx = dy if x > 0 else a * dy; da += sum over every dim but the channel's of (0 if x > 0 else x * dy) (at x = 0: the slope a, and da gets 0 * dy) the slope sits on dim 1, not on the last dim (a (N, L, C) sequence needs a transpose, unlike Linear); weight decay should not be used on it (the paper's advice, in torch's docs). Like LeakyReLU, the test is x > 0, so x = 0 takes the slope; a NaN input takes the slope too (a * NaN) and adds NaN to da."
},
{
"name": "RReLU",
"family": "Activations",
"href": "RReLU.html",
"summary": "y = x if x > 0 else a * x: a ~ U(lower, upper) per element in training, a = (lower + upper) / 2 in eval.",
"text": "y = x if x > 0 else a * x: a ~ U(lower, upper) per element in training, a = (lower + upper) / 2 in eval. training: dx = dy * noise; eval: dx = dy if x > 0 else dy * (lower + upper) / 2. the slope is drawn for x <= 0 (zero included, so x = 0 gets a random slope in the backward), in double precision and then rounded to the input's dtype; the forward saves it as a hidden noise tensor that the backward multiplies by (older releases switched to the mean slope when upper - lower <= 1e-6; 2.x always uses the noise in training). A NaN input gets noise 1 (NaN <= 0 is false) and so passes dy through in training, but the mean slope in eval."
},
{
"name": "Softmax2d",
"family": "Activations",
"href": "Softmax2d.html",
"summary": "y = softmax(x) over the channels, at every spatial location: Softmax(dim=-3).",
"text": "y = softmax(x) over the channels, at every spatial location: Softmax(dim=-3). dx = y * (dy - sum_c(dy * y)) along the channel dim, as :class:Softmax. \"2d\" is the *spatial* part: the softmax runs over the channel dim -3, which is what a per-pixel classifier (semantic segmentation) wants; any rank other than 3 or 4 is refused, though Softmax(dim=-3) would compute the same thing there."
},
{
"name": "HuberLoss",
"family": "Losses",
"href": "HuberLoss.html",
"summary": "l_i = 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta), d = x_i - y_i.",
"text": "l_i = 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta), d = x_i - y_i. dx = dl * clamp(d, -delta, delta) HuberLoss(delta) = delta * SmoothL1Loss(beta=delta): the same curve scaled, so the gradient saturates at ±delta instead of ±1. HuberLoss has no deprecated size_average/reduce arguments (it came later)."
},
{
"name": "KLDivLoss",
"family": "Losses",
"href": "KLDivLoss.html",
"summary": "l_i = y_i (log y_i - x_i), x the *log*-probabilities, y the target probabilities.",
"text": "l_i = y_i (log y_i - x_i), x the *log*-probabilities, y the target probabilities. dx = -y * dl (log_target: -exp(y) * dl); ÷ N for 'batchmean', ÷ numel for 'mean'. the default reduction 'mean' averages over classes too, so it is not the KL divergence (torch warns; 'batchmean' is). y log y is torch's xlogy: 0 where y = 0, NaN where y < 0 (no error). The input is *not* log-softmaxed for you, and 'batchmean' divides by input.size(0) even for an unbatched 1-D input."
},
{
"name": "L1Loss",
"family": "Losses",
"href": "L1Loss.html",
"summary": "l_i = |x_i - y_i|, then the reduction.",
"text": "l_i = |x_i - y_i|, then the reduction. ell_i = |x_i - y_i| dx = sign(x - y) * dl (0 where x == y; ÷ the number of elements for 'mean') L1Loss is (x - y).abs() differentiated by autograd, so at x == y the gradient is sgn(0) = 0: a prediction that hits its target exactly stops. torch's sgn of a NaN is 0 too, so a NaN input gets a zero gradient."
},
{
"name": "MarginRankingLoss",
"family": "Losses",
"href": "MarginRankingLoss.html",
"summary": "l_i = max(0, -y_i (x1_i - x2_i) + margin): x1 should rank above x2 when y = 1.",
"text": "l_i = max(0, -y_i (x1_i - x2_i) + margin): x1 should rank above x2 when y = 1. dx1 = -y * dl * [-y (x1 - x2) + margin >= 0], dx2 = -dx1. Both inputs are differentiated (grad_inputs = (0, 1)); backward returns (dx1, dx2). the hinge is clamp_min(·, 0), whose backward passes the gradient where the argument is >= 0: exactly at the hinge a pair still gets gradient, unlike relu (which gives 0 there). Torch only checks that the three tensors have the same number of dims, then broadcasts; npimpl requires equal shapes."
},
{
"name": "MSELoss",
"family": "Losses",
"href": "MSELoss.html",
"summary": "l_i = (x_i - y_i)^2, then the reduction.",
"text": "l_i = (x_i - y_i)^2, then the reduction. ell_i = (x_i - y_i)^2, qquad L = frac{1}{M}sum_i ell_i \\;(text{mean}) text{ or } sum_i ell_i \\;(text{sum}) dx = 2 (x - y) * dl (divided by the number of elements for 'mean') torch broadcasts a target of a different shape with only a warning; npimpl refuses it, because that broadcast is almost always a bug."
},
{
"name": "SmoothL1Loss",
"family": "Losses",
"href": "SmoothL1Loss.html",
"summary": "l_i = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, d = x_i - y_i.",
"text": "l_i = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, d = x_i - y_i. dx = dl * clamp(d / beta, -1, 1) (beta = 0: dl * sign(d)) beta = 0 is routed to l1_loss in Python: the smooth formula would divide 0 by 0 at d = 0. The slope is continuous at |d| = beta, so there is no kink to choose at; SmoothL1 is Huber divided by beta."
},
{
"name": "GaussianNLLLoss",
"family": "Losses",
"href": "GaussianNLLLoss.html",
"summary": "l_i = 0.5 (log max(v_i, eps) + (x_i - y_i)^2 / max(v_i, eps)) (+ 0.5 log 2 pi if full).",
"text": "l_i = 0.5 (log max(v_i, eps) + (x_i - y_i)^2 / max(v_i, eps)) (+ 0.5 log 2 pi if full). with v = max(var, eps), d = x - y: dx = dl * d / v, dy = -dx, dvar = dl * 0.5 (1 / v - d^2 / v^2); dy and dvar summed over the dims target and var were broadcast along. Three differentiable inputs; backward returns (dx, dy, dvar). the clamp is done in place under no_grad on a clone, so autograd never sees it: where var < eps the loss uses eps, yet var still receives the gradient evaluated at eps (not 0, as a clamp in the graph would give). A var given as a Python float is expanded and gets no gradient. Negative variances raise; NaN ones pass the check (any(var < 0) is false for NaN). var's shape is checked (three layouts, and a var one dim short is unsqueezed at the *end*: (N, D) input, (N,) var), but the target's never is: (input - target) ** 2 broadcasts it by NumPy's rules, aligning *trailing* dims, so a (D,) target against an (N, D) input is one target row for every sample (torch's own op tests use it) while a (N,) var is one variance per sample. A target *larger* than the input would silently grow the loss's shape in torch; npimpl refuses it."
},
{
"name": "CrossEntropyLoss",
"family": "Losses",
"href": "CrossEntropyLoss.html",
"summary": "Cross-entropy from raw logits: l_n = -sum_c T[n, c] * log softmax(x_n)[c].",
"text": "Cross-entropy from raw logits: l_n = -sum_c T[n, c] * log softmax(x_n)[c]. ell_n = -sum_c T_{n,c} log p_{n,c}, qquad log p_{n,c} = x_{n,c} - logsum_k e^{x_{n,k}} dx_n = r_n * dl_n * (sum_c T[n, c] * softmax(x_n) - T[n, :]): with T = onehot this is the famous p - y (the softmax Jacobian and the 1/p of the log cancel). r_n = 1/sum_n w[t_n] for 'mean' with index targets, 1/M for 'mean' with probabilities (M = N * d1 * ... * dK), 1 otherwise. 'mean' divides by the *sum of the target classes' weights*, not by N. With label smoothing torch adds eps/C * sum_c w_c (-logp_c), a term weighted by *every* class's weight, yet still divides it by the sum of the *target* classes' weights: with weights, a smoothed loss is not the cross-entropy of the smoothed distribution under any one normalisation. With probability targets 'mean' ignores the weights in the denominator (÷ M) and ignore_index is refused. An index target whose shape equals the input's is read as probabilities (and refused for not being float)."
},
{
"name": "NLLLoss",
"family": "Losses",
"href": "NLLLoss.html",
"summary": "Negative log-likelihood of class indices: l_n = -w[t_n] * x[n, t_n].",
"text": "Negative log-likelihood of class indices: l_n = -w[t_n] * x[n, t_n]. ell_n = -w_{t_n}\\, x_{n, t_n}, qquad L_{text{mean}} = frac{sum_n ell_n}{sum_{n:\\, t_n ne text{ignore}} w_{t_n}} dx[n, t_n] = -w[t_n] * dl_n (÷ sum of the weights for 'mean'); 0 elsewhere. the article's \"separate cross-entropy\" takes *probabilities*, computes -log(p) and averages over the class axis as well as the batch; NLLLoss takes *log*-probabilities, so the log never sees a 0, and averages over samples only. If every target is ignored, 'mean' is 0/0 = NaN, as in torch, while the gradient stays 0 (torch's backward writes only non-ignored rows)."
},
{
"name": "BCELoss",
"family": "Losses",
"href": "BCELoss.html",
"summary": "l_i = -w_i (y_i log x_i + (1 - y_i) log(1 - x_i)), each log clamped at -100.",
"text": "l_i = -w_i (y_i log x_i + (1 - y_i) log(1 - x_i)), each log clamped at -100. ell_i = -w_ibig(y_i log x_i + (1 - y_i)log(1 - x_i)big) dx = w * dl * (x - y) / max(x (1 - x), float32(1e-12)) (÷ the number of elements for 'mean') two floors make p = 0 and p = 1 safe: the forward clamps log x and log(1 - x) at -100 (so a confident wrong answer costs 100, not inf), the backward floors x (1 - x) at 1e-12 (so the gradient there is ±1e12, not inf); that 1e-12 is a float32 constant, so in float64 the floor is 9.99999996e-13 and the gradient at p = 1, y = 0.75 is 2.50000001e11. log(1 - x) is computed as log1p(-x). Inputs or targets outside [0, 1] (NaN included) raise instead of returning NaN: a sigmoid that overshoots is a bug to report, not a loss to average."
},
{
"name": "BCEWithLogitsLoss",
"family": "Losses",
"href": "BCEWithLogitsLoss.html",
"summary": "l_i = -w_i (pw_i y_i log sigmoid(x_i) + (1 - y_i) log(1 - sigmoid(x_i))).",
"text": "l_i = -w_i (pw_i y_i log sigmoid(x_i) + (1 - y_i) log(1 - sigmoid(x_i))). ell_i = -w_ibig(p_i y_i logsigma(x_i) + (1 - y_i)log(1 - sigma(x_i))big) dx = w * dl * ((pw y + 1 - y) sigmoid(x) - pw y) (pw = 1: sigmoid(x) - y); ÷ the number of elements for 'mean'. this is why the fused loss exists: BCELoss(sigmoid(x)) at x = -700 takes log(0), clamps it to -100 and has a gradient that vanishes, while here the loss is ~700 and the gradient exactly sigmoid(x) - y. pos_weight scales only the positive term, so it trades recall for precision; it is *not* the same as weight. Unlike BCELoss, targets are not range-checked."
},
{
"name": "CosineEmbeddingLoss",
"family": "Losses",
"href": "CosineEmbeddingLoss.html",
"summary": "l_i = 1 - cos(x1_i, x2_i) if y_i = 1; max(0, cos(x1_i, x2_i) - margin) if y_i = -1.",
"text": "l_i = 1 - cos(x1_i, x2_i) if y_i = 1; max(0, cos(x1_i, x2_i) - margin) if y_i = -1. cos = p / s with p = <x1, x2>, m1 = |x1|^2 + EPS, m2 = |x2|^2 + EPS, s = sqrt(m1 m2): d cos / d x1 = x2 / s - cos * x1 / m1, d cos / d x2 = x1 / s - cos * x2 / m2; d l / d cos = -1 where y = 1, [cos - margin >= 0] where y = -1, 0 elsewhere; dx1 = g * d l / d cos * d cos / d x1, g = grad_output (÷ N for 'mean'); dx2 likewise. Both inputs are differentiated (grad_inputs = (0, 1)); backward returns (dx1, dx2). ATen adds EPSILON = 1e-12 to each *squared* norm, inside the square root, where F.cosine_similarity clamps each norm at eps = 1e-8 (two equal vectors of norm 1e-7 have cosine 1 there and 0.0099 here); and that EPSILON is a float32 constant, so float64 adds 9.99999996e-13. A zero vector therefore has cos = 0 and a finite but huge gradient, |x2| / sqrt(EPS |x2|^2) ~ 1e6 per unit direction. The hinge is clamp_min_(cos - margin, 0), whose backward passes the gradient where cos - margin >= 0: an orthogonal pair labelled -1 with margin 0 costs 0 yet is still pushed. Labels are compared with target == 1 and target == -1 and never checked: any other value (0, the usual 0/1-label mistake) matches neither branch and gives loss 0 and gradient 0 without a warning; npimpl does the same. Torch broadcasts input2 of shape (1, D) and a target of shape (1); npimpl requires equal shapes."
},
{
"name": "PoissonNLLLoss",
"family": "Losses",
"href": "PoissonNLLLoss.html",
"summary": "l_i = exp(x_i) - y_i x_i (log_input) or x_i - y_i log(x_i + eps), + Stirling if full.",
"text": "l_i = exp(x_i) - y_i x_i (log_input) or x_i - y_i log(x_i + eps), + Stirling if full. dx = dl * (exp(x) - y) (log_input) or dl * (1 - y / (x + eps)); the Stirling term depends on the target only. ÷ numel for 'mean'. the Stirling term is computed everywhere, 0 * log 0 = NaN included, and then masked to 0 where y <= 1: not log(y!) (which is 0 only at y = 0 and 1), just \"no correction\" for small counts. eps only guards log(x); with log_input=True (the default) a rate never appears, so a large input overflows exp to inf. torch would also differentiate the target (the Stirling term and - y log x); here, as in every npimpl loss, the target is data."
},
{
"name": "HingeEmbeddingLoss",
"family": "Losses",
"href": "HingeEmbeddingLoss.html",
"summary": "l_i = x_i if y_i = 1; max(0, margin - x_i) if y_i = -1 (x: a distance, y: ±1).",
"text": "l_i = x_i if y_i = 1; max(0, margin - x_i) if y_i = -1 (x: a distance, y: ±1). dx = dl * ([y != -1] - [y != 1] [margin - x >= 0]) (÷ numel for 'mean'). ATen writes the two branches as where(y != 1, clamp_min(margin - x, 0), 0) + where(y != -1, x, 0): a label that is neither 1 nor -1 (a 0 from 0/1 labels) takes *both*, x + max(0, margin - x), with no warning (npimpl does the same). clamp_min passes the gradient where its argument is >= 0, so a dissimilar pair exactly at the margin is still pushed (dx = -1)."
},
{
"name": "MultiLabelSoftMarginLoss",
"family": "Losses",
"href": "MultiLabelSoftMarginLoss.html",
"summary": "l_n = -(1/C) sum_c w_c (y_c log σ(x_c) + (1 - y_c) log σ(-x_c)): C one-vs-all logistic losses per sample, averaged over the classes.",
"text": "l_n = -(1/C) sum_c w_c (y_c log σ(x_c) + (1 - y_c) log σ(-x_c)): C one-vs-all logistic losses per sample, averaged over the classes. dx_{n,c} = dl_n * w_c * (y_c σ(-x_c) (-1) + (1 - y_c) σ(x_c)) / C = dl_n * w_c * (σ(x_c) - y_c) / C (÷ N for 'mean'). it is BCEWithLogitsLoss averaged over the classes *within* each sample: 'none' gives one loss per sample, not per element, and 'mean' divides by N * C overall, as BCEWithLogitsLoss would. It is written in Python from logsigmoid (finite at ±700, like BCEWithLogitsLoss), and the weight is simply multiplied in, so torch's own tests pass a weight of the input's full shape."
},
{
"name": "SoftMarginLoss",
"family": "Losses",
"href": "SoftMarginLoss.html",
"summary": "l_i = log(1 + exp(-y_i x_i)): the logistic loss on ±1 labels.",
"text": "l_i = log(1 + exp(-y_i x_i)): the logistic loss on ±1 labels. with z = exp(-y x): dx = -dl * y * z / (1 + z) (÷ numel for 'mean'). ATen computes log1p(exp(-y x)) without the max-shift BCEWithLogitsLoss uses: the loss is exact for small exp(-y x) (4.2e-18 at y x = 40, where log(1 + ·) would give 0) but overflows to inf once -y x passes the dtype's exp limit (about 709 in float64, 88 in float32), and the gradient z / (1 + z) there is inf / inf = NaN. npimpl reproduces both."
},
{
"name": "MultiLabelMarginLoss",
"family": "Losses",
"href": "MultiLabelMarginLoss.html",
"summary": "l_n = (1/C) sum_{j in Y_n} sum_{i not in Y_n} max(0, 1 - (x[n, j] - x[n, i])).",
"text": "l_n = (1/C) sum_{j in Y_n} sum_{i not in Y_n} max(0, 1 - (x[n, j] - x[n, i])). for every listed target j and non-target i with z = 1 - x_j + x_i > 0: dx_i += g_n / C and dx_j -= g_n / C (g_n ÷ N for 'mean'). only the prefix before the first -1 counts, yet *every* entry, padding included, must lie in [-1, C) or torch raises. A class listed twice is counted twice in the sum over j (but is one class in \"not in Y_n\"). The hinge is tested with z > 0 strictly, so a pair exactly at the margin gets no gradient, and a NaN score drops out of the loss instead of propagating. The margin is fixed at 1."
},
{
"name": "MultiMarginLoss",
"family": "Losses",
"href": "MultiMarginLoss.html",
"summary": "l_n = (1/C) sum_{i != y_n} w[y_n] max(0, margin - x[n, y_n] + x[n, i])^p.",
"text": "l_n = (1/C) sum_{i != y_n} w[y_n] max(0, margin - x[n, y_n] + x[n, i])^p. with z_i = margin - x_y + x_i and h_i = w[y] g_n / C (p = 1) or 2 z_i w[y] g_n / C (p = 2) where z_i > 0, i != y, else 0: dx_i = h_i, dx_y = -sum_i h_i; g_n = grad_output (÷ N for 'mean'). the CPU kernel tests z > 0 (strictly) in the loss and in the gradient: a class exactly at the margin gets no gradient, where a clamp_min would pass it. The average is over *all* C classes although the target's own term is always left out (the loss of C - 1 pairs divided by C), and a NaN score fails z > 0 and drops out of the loss instead of propagating. Weights are not checked for sign."
},
{
"name": "TripletMarginLoss",
"family": "Losses",
"href": "TripletMarginLoss.html",
"summary": "l_i = max(d(a_i, p_i) - d(a_i, n_i) + margin, 0), d(x, y) = ||x - y + eps||_p.",
"text": "l_i = max(d(a_i, p_i) - d(a_i, n_i) + margin, 0), d(x, y) = ||x - y + eps||_p. with s = dl [margin + d_pos - d_neg >= 0]: the positive distance gets +s, the negative -s (with swap, split by torch's min rule: all to the smaller, half each on a tie); each distance passes its share through the norm's gradient ((v / d) for p = 2, sgn(v) for p = 1 …) to +x1 and -x2. Three differentiable inputs; backward returns (d_anchor, d_positive, d_negative). eps is added to the difference, not to the norm: d = ||a - p + eps||, so two equal vectors are eps * D ** (1/p) apart and the gradient direction there is (1, ..., 1), never 0/0 (the p = 2 gradient is still masked to 0 at d = 0, for eps = 0). With swap, a tie d(a, n) == d(p, n) (a positive equal to its anchor) gives each distance half of the gradient. The hinge is clamp_min: a triplet exactly at the margin is still pushed. Torch checks only that the three inputs have the same number of dims and broadcasts (a (1, D) positive for all anchors); npimpl requires equal shapes."
},
{
"name": "TripletMarginWithDistanceLoss",
"family": "Losses",
"href": "TripletMarginWithDistanceLoss.html",
"summary": "l_i = max(d(a_i, p_i) - d(a_i, n_i) + margin, 0) for any distance function d.",
"text": "l_i = max(d(a_i, p_i) - d(a_i, n_i) + margin, 0) for any distance function d. s = dl [margin + d_pos - d_neg >= 0]; grad_fn(a, p, s) for d(a, p), grad_fn(a, n, -s) for d(a, n) (with swap: -s split between d(a, n) and d(p, n) by torch's minimum rule), summed per input. backward returns (d_anchor, d_positive, d_negative). torch differentiates whatever the distance does with autograd; NumPy cannot, so the gradient must come with the function (a pair, or a module with backward). The distance is evaluated two or three times per forward (d(a, p), d(a, n), and d(p, n) with swap), so a stateful distance sees three calls. Torch checks only the number of dims; the shapes are the distance's business (the default refuses unequal shapes in npimpl, where torch's broadcasts). Unlike TripletMarginLoss, there are no deprecated size_average/reduce flags and every argument is keyword-only."
},
{
"name": "CTCLoss",
"family": "Losses",
"href": "CTCLoss.html",
"summary": "l_n = -log sum_{alignments a of target n} prod_t y_t(a_t) over T frames of log-probs.",
"text": "l_n = -log sum_{alignments a of target n} prod_t y_t(a_t) over T frames of log-probs. with gamma_t(c) = exp(log alpha_t(s) + log beta_t(s) - lp_t(c) + nll) summed over the states s with l'_s = c (the posterior probability of class c at frame t): d log_probs[t, n, c] = g_n (exp(lp[t, n, c]) - gamma_t(c)) for t < input_length, 0 after; g_n = grad_output (÷ N and ÷ max(target_length, 1) for 'mean'). the gradient is *not* d loss / d log_probs, which is -gamma: torch returns exp(log_probs) - gamma, measured to 4e-16 for unnormalised log_probs (where it differs from -gamma by up to 4.7). That extra exp(log_probs) is softmax(x) when log_probs = log_softmax(x), and log_softmax's backward, g - softmax * sum(g), cancels any added softmax exactly, so through a preceding LogSoftmax both give the famous softmax - gamma; fed anything else (unnormalised scores, a log of sigmoids) torch's gradient is wrong. npimpl returns torch's gradient, so that it is a drop-in oracle for torch's CTCLoss (and cheaper: it is the fused gradient); the true derivative is the returned value minus g_n exp(log_probs). An impossible alignment (a target longer than the frames allow, counting a blank between repeated labels: \"aa\" needs 3 frames) has loss inf and, without zero_infinity, a NaN gradient on its frames; a log-prob of -inf gives a NaN gradient entry (exp(-inf + inf)). 'mean' averages per-token losses, mean_n(l_n / max(L_n, 1)). The CPU kernel never range-checks target labels: an out-of-range label reads memory beyond the row (a finite, wrong loss) and the backward *writes* its gradient there, a heap overflow (it crashed this project's test run later, in unrelated code); npimpl raises IndexError. Nor does it refuse a label equal to blank, which its docs forbid: it computes the loss mechanically but, when the *last* label is the blank, overwrites instead of adding the two final states' share of the last frame's gradient (measured: off by 0.19 there, exact elsewhere); npimpl refuses such targets."
},
{
"name": "AdaptiveLogSoftmaxWithLoss",
"family": "Losses",
"href": "AdaptiveLogSoftmaxWithLoss.html",
"summary": "log p(c | x) = log softmax(head(x))[c] for a shortlist class, else log softmax(head(x))[cluster] + log softmax(tail_i(x))[c - cutoff_i].",
"text": "log p(c | x) = log softmax(head(x))[c] for a shortlist class, else log softmax(head(x))[cluster] + log softmax(tail_i(x))[c - cutoff_i]. backward(grad_output, grad_loss): each sample's output gets g_n = grad_output[n] - grad_loss / N; a log-softmax row with target column k passes g_n (onehot(k) - softmax) to its logits, and the Linear layers pass it on (dx = dy W, dW += dy^T x). A cluster that no target falls in is skipped, so its weights get no gradient (.grad stays None, as torch's). only the clusters that some target falls in are computed at all (that is the saving), so which tail weights receive a gradient depends on the batch's targets. loss is the *mean* over the batch, with no reduction option and no ignore_index; output is the log-probability (not the loss) of each target. log_prob and predict need a 2-D input, and predict computes the full distribution only for the rows whose head argmax is a cluster. npimpl's log_prob and predict are inference helpers with no backward."
},
{
"name": "LinearCrossEntropyLoss",
"family": "Losses",
"href": "LinearCrossEntropyLoss.html",
"summary": "loss = CrossEntropyLoss(x W^T + b, target), with W of num_classes * prod(out_features) rows; optionally computed a chunk of rows at a time.",
"text": "loss = CrossEntropyLoss(x W^T + b, target), with W of num_classes * prod(out_features) rows; optionally computed a chunk of rows at a time. dz = CrossEntropyLoss.backward(g) for the logits z (r_n (softmax - T)), then dx = dz W, dW += dz^T x, db += sum dz. Chunked: for each block of B rows, z_B = x_B W^T + b, dz_B, and at once dx_B = dz_B W, dW += dz_B^T x_B; for 'mean'/'sum' this happens in forward with g = 1 and backward scales by g (torch's scheme), for 'none' backward recomputes each block's logits. where the memory goes. Unfused, forward + backward hold the logits, their log-softmax and the logits' gradient (CrossEntropyLoss keeps an index target as one weight per row): three (N, C) arrays, 3 N C elements. Chunked, only (B, C) blocks exist (about six of them, CrossEntropyLoss's working arrays for one block), plus dx (N, d), dW (C, d) and one (C, d) product per block: ~6 B C + 2 C d + N d elements. Measured (tracemalloc, float32, N = 256 tokens, d = 64, C = 32768, 'mean', forward + backward): 96.1 MiB unfused (exactly three 32 MiB logits-sized arrays) vs 28.3 MiB with 32-row blocks, 3.4x less, with the same loss and gradients (tests/test_linear_ce.py measures it again). The price is time: each block is a separate BLAS call and a separate update of the whole dW; torch's \"auto\" chunking on CPU sizes a block's logits like the input (here 1 row per block), which NumPy runs over 10x slower than unfused. The 'mean'/'sum' gradients are computed in forward and consumed in place, so without allow_retain_graph=True a second backward raises. torch's default ignore_index here is None, not -100, because probability targets refuse one."
},
{
"name": "LinearCrossEntropyOptions",
"family": "Losses",
"href": "LinearCrossEntropyOptions.html",
"summary": "torch's LinearCrossEntropyOptions: how the chunked path splits the batch.",
"text": "torch's LinearCrossEntropyOptions: how the chunked path splits the batch."
},
{
"name": "NLLLoss2d",
"family": "Losses",
"href": "NLLLoss2d.html",
"summary": "NLLLoss under its pre-0.4 name for images: l = -w[t] x[n, t, h, w] per pixel.",
"text": "NLLLoss under its pre-0.4 name for images: l = -w[t] x[n, t, h, w] per pixel. as NLLLoss: dx[n, t, h, w] = -w[t] dl (÷ the sum of the target weights for 'mean'), 0 elsewhere. it is NLLLoss itself, with the arguments in the same order (weight, size_average, ignore_index, reduce, reduction): the \"2d\" is history from when NLLLoss took only (N, C). Constructing one warns (FutureWarning), in torch and here; it accepts any rank NLLLoss does."
},
{
"name": "Conv1d",
"family": "Convolution",
"href": "Conv1d.html",
"summary": "Cross-correlates a learned kernel over the input: y[n,o] = b[o] + sum_c W[o,c] ⋆ x[n,c].",
"text": "Cross-correlates a learned kernel over the input: y[n,o] = b[o] + sum_c W[o,c] ⋆ x[n,c]. y_{n,o,p} = b_o + sum_{c} sum_{k} W_{o,c,k}\\, tilde x_{n,c,\\,p s + k d} dx = the full correlation of dy (zeros inserted for the stride) with the kernel flipped in space and transposed (C_out, C_in) -> (C_in, C_out) per group: the transposed convolution, then the padding's gradient sent back (or cut off); dW[o, c, k] = sum_{n,p} dy[n, o, p] * x_pad[n, c, p*stride + k*dilation]; db = sum of dy over batch and space. How the code computes each (gather and scatter forms, depthwise bands, the matmul's orientation): conv_backward's docstring. torch's \"convolution\" is a cross-correlation (no kernel flip) and its CPU kernel (oneDNN or im2col+GEMM, chosen at run time) never shows the im2col matrix; here a strided view of the input (as_strided: no copy) is copied once into columns (N, G, C_in/G * prod(K), prod(O)) and one batched matmul with the weight reshaped to (G, C_out/G, C_in/G * prod(K)) yields (N, C_out, *O) directly in NCHW (the bias is one more weight column, against a row of ones in the columns). A 1-D or 2-D depthwise convolution (one input channel per group, stride 1, a multiplier of at most prod(K)/3) skips the columns, which would be prod(K) copies of the input for one multiply-add per copied element: each channel's batch is one tall image whose rows a banded (Toeplitz) matrix of the kernel multiplies, in blocks of 16 output columns (_depthwise; its speed-up is measured in reports/bench.md). A non-zero padding_mode is an explicit F.pad before a zero-padding convolution, and 'same' with an even kernel pads one more on the high side."
},
{
"name": "Conv2d",
"family": "Convolution",
"href": "Conv2d.html",
"summary": "Cross-correlates a learned kernel over the input: y[n,o] = b[o] + sum_c W[o,c] ⋆ x[n,c].",
"text": "Cross-correlates a learned kernel over the input: y[n,o] = b[o] + sum_c W[o,c] ⋆ x[n,c]. y_{n,o,p} = b_o + sum_{c} sum_{k} W_{o,c,k}\\, tilde x_{n,c,\\,p s + k d} dx = the full correlation of dy (zeros inserted for the stride) with the kernel flipped in space and transposed (C_out, C_in) -> (C_in, C_out) per group: the transposed convolution, then the padding's gradient sent back (or cut off); dW[o, c, k] = sum_{n,p} dy[n, o, p] * x_pad[n, c, p*stride + k*dilation]; db = sum of dy over batch and space. How the code computes each (gather and scatter forms, depthwise bands, the matmul's orientation): conv_backward's docstring. torch's \"convolution\" is a cross-correlation (no kernel flip) and its CPU kernel (oneDNN or im2col+GEMM, chosen at run time) never shows the im2col matrix; here a strided view of the input (as_strided: no copy) is copied once into columns (N, G, C_in/G * prod(K), prod(O)) and one batched matmul with the weight reshaped to (G, C_out/G, C_in/G * prod(K)) yields (N, C_out, *O) directly in NCHW (the bias is one more weight column, against a row of ones in the columns). A 1-D or 2-D depthwise convolution (one input channel per group, stride 1, a multiplier of at most prod(K)/3) skips the columns, which would be prod(K) copies of the input for one multiply-add per copied element: each channel's batch is one tall image whose rows a banded (Toeplitz) matrix of the kernel multiplies, in blocks of 16 output columns (_depthwise; its speed-up is measured in reports/bench.md). A non-zero padding_mode is an explicit F.pad before a zero-padding convolution, and 'same' with an even kernel pads one more on the high side."
},
{
"name": "ConvTranspose2d",
"family": "Convolution",
"href": "ConvTranspose2d.html",
"summary": "y = conv2d^T(x, W) + b: the input-gradient of Conv2d(C_out, C_in) applied to x.",
"text": "y = conv2d^T(x, W) + b: the input-gradient of Conv2d(C_out, C_in) applied to x. dx = conv2d(dy, W) with the same stride/padding/dilation/groups — the backward of a transposed conv is an ordinary conv, computed by the same conv_valid routine; dW[c, o, k] = sum_{n,p} x[n, c, p] * dy_pad[n, o, p*stride + k*dilation] (the columns of that conv); db = sum of dy over batch and space. the weight is stored (in, out/groups, kh, kw), the transpose of Conv2d's layout, because it *is* the weight of the Conv2d whose input-gradient this layer computes; the forward is a scatter (each input pixel adds a weighted kernel to the output), equal to a stride-1 convolution of the zero-dilated input with the flipped kernel, but computed as the scatter (no multiplications by the inserted zeros); output_padding only adds rows the scatter never reaches (they get the bias only). output_size is checked against [min, min + stride - 1] per axis in Python, before the kernel's own check, so it can never ask for an output_padding of stride or more."
},
{
"name": "Conv3d",
"family": "Convolution",
"href": "Conv3d.html",
"summary": "Cross-correlates a learned kernel over the input: y[n,o] = b[o] + sum_c W[o,c] ⋆ x[n,c].",
"text": "Cross-correlates a learned kernel over the input: y[n,o] = b[o] + sum_c W[o,c] ⋆ x[n,c]. y_{n,o,p} = b_o + sum_{c} sum_{k} W_{o,c,k}\\, tilde x_{n,c,\\,p s + k d} dx = the full correlation of dy (zeros inserted for the stride) with the kernel flipped in space and transposed (C_out, C_in) -> (C_in, C_out) per group: the transposed convolution, then the padding's gradient sent back (or cut off); dW[o, c, k] = sum_{n,p} dy[n, o, p] * x_pad[n, c, p*stride + k*dilation]; db = sum of dy over batch and space. How the code computes each (gather and scatter forms, depthwise bands, the matmul's orientation): conv_backward's docstring. torch's \"convolution\" is a cross-correlation (no kernel flip) and its CPU kernel (oneDNN or im2col+GEMM, chosen at run time) never shows the im2col matrix; here a strided view of the input (as_strided: no copy) is copied once into columns (N, G, C_in/G * prod(K), prod(O)) and one batched matmul with the weight reshaped to (G, C_out/G, C_in/G * prod(K)) yields (N, C_out, *O) directly in NCHW (the bias is one more weight column, against a row of ones in the columns). A 1-D or 2-D depthwise convolution (one input channel per group, stride 1, a multiplier of at most prod(K)/3) skips the columns, which would be prod(K) copies of the input for one multiply-add per copied element: each channel's batch is one tall image whose rows a banded (Toeplitz) matrix of the kernel multiplies, in blocks of 16 output columns (_depthwise; its speed-up is measured in reports/bench.md). A non-zero padding_mode is an explicit F.pad before a zero-padding convolution, and 'same' with an even kernel pads one more on the high side."
},
{
"name": "ConvTranspose1d",
"family": "Convolution",
"href": "ConvTranspose1d.html",
"summary": "y = conv1d^T(x, W) + b: the input-gradient of Conv1d(C_out, C_in) applied to x.",
"text": "y = conv1d^T(x, W) + b: the input-gradient of Conv1d(C_out, C_in) applied to x. dx = conv1d(dy, W) with the same stride/padding/dilation/groups — the backward of a transposed conv is an ordinary conv, computed by the same conv_valid routine; dW[c, o, k] = sum_{n,p} x[n, c, p] * dy_pad[n, o, p*stride + k*dilation] (the columns of that conv); db = sum of dy over batch and space. the weight is stored (in, out/groups, k), the transpose of Conv1d's layout, because it *is* the weight of the Conv1d whose input-gradient this layer computes; the forward is a scatter (each input pixel adds a weighted kernel to the output), equal to a stride-1 convolution of the zero-dilated input with the flipped kernel, but computed as the scatter (no multiplications by the inserted zeros); output_padding only adds rows the scatter never reaches (they get the bias only). output_size is checked against [min, min + stride - 1] per axis in Python, before the kernel's own check, so it can never ask for an output_padding of stride or more."
},
{
"name": "ConvTranspose3d",
"family": "Convolution",
"href": "ConvTranspose3d.html",
"summary": "y = conv3d^T(x, W) + b: the input-gradient of Conv3d(C_out, C_in) applied to x.",
"text": "y = conv3d^T(x, W) + b: the input-gradient of Conv3d(C_out, C_in) applied to x. dx = conv3d(dy, W) with the same stride/padding/dilation/groups — the backward of a transposed conv is an ordinary conv, computed by the same conv_valid routine; dW[c, o, k] = sum_{n,p} x[n, c, p] * dy_pad[n, o, p*stride + k*dilation] (the columns of that conv); db = sum of dy over batch and space. the weight is stored (in, out/groups, kd, kh, kw), the transpose of Conv3d's layout, because it *is* the weight of the Conv3d whose input-gradient this layer computes; the forward is a scatter (each input pixel adds a weighted kernel to the output), equal to a stride-1 convolution of the zero-dilated input with the flipped kernel, but computed as the scatter (no multiplications by the inserted zeros); output_padding only adds rows the scatter never reaches (they get the bias only). output_size is checked against [min, min + stride - 1] per axis in Python, before the kernel's own check, so it can never ask for an output_padding of stride or more."
},
{
"name": "AdaptiveAvgPool2d",
"family": "Pooling",
"href": "AdaptiveAvgPool2d.html",
"summary": "y[n, c, o..] = mean of x[n, c, window(o)..], along each axis the window [floor(o*S/O), ceil((o+1)*S/O)).",
"text": "y[n, c, o..] = mean of x[n, c, window(o)..], along each axis the window [floor(o*S/O), ceil((o+1)*S/O)). dx = the forward's window sums transposed, divided by each window's size: with the 0/1 window matrices M_i (O_i, S_i) of the forward y = x ×_1 M_1 ... ×_2 M_2 / div (one matmul per axis), dx = (dy / div) ×_1 M_1^T ... ×_2 M_2^T. windows have different sizes and may overlap (S=5 → 3 windows of 2, 3, 2), so this is not an AvgPool with some fixed kernel; each output divides by its own size. The window mean is separable, so it is one matmul per axis here (_pool.along) rather than torch's per-window loop; an input holding ±inf takes the windows themselves instead (inf * 0 in a matmul would make every window NaN)."
},
{
"name": "AdaptiveMaxPool2d",
"family": "Pooling",
"href": "AdaptiveMaxPool2d.html",
"summary": "y[n, c, o..] = max of x[n, c, window(o)..] (AdaptiveAvgPool2d's windows).",
"text": "y[n, c, o..] = max of x[n, c, window(o)..] (AdaptiveAvgPool2d's windows). dx[n, c, argmax(o)] += dy[n, c, o] ties go to the first maximum in row-major scan order (a NaN wins, the last NaN), as in MaxPool2d; overlapping adaptive windows may pick the same input, whose gradient then adds up."
},
{
"name": "AvgPool2d",
"family": "Pooling",
"href": "AvgPool2d.html",
"summary": "y[n, c, o] = sum_{k in window(o)} x[n, c, k] / divisor(o) over each 2-D window.",
"text": "y[n, c, o] = sum_{k in window(o)} x[n, c, k] / divisor(o) over each 2-D window. y_{n,c,o} = frac{1}{|w(o)|}sum_{k in w(o)} x_{n,c,k} dx[n, c, i] = sum over the windows o containing i of dy[n, c, o] / divisor(o): the transposed convolution with a ones kernel, done as an overlap-add over the kernel offsets (_pool.window_sum_grad). the divisor is per output pixel: with count_include_pad it is the window clipped to the *padded* input (so a ceil_mode window hanging past the padding is divided by fewer than prod(kernel_size)), without it only real inputs count; divisor_override replaces both."
},
{
"name": "MaxPool1d",
"family": "Pooling",
"href": "MaxPool1d.html",
"summary": "y[n, c, o] = max_{k} x_pad[n, c, o*stride + k*dilation] over each 1-D window.",
"text": "y[n, c, o] = max_{k} x_pad[n, c, o*stride + k*dilation] over each 1-D window. dx[n, c, argmax(o)] += dy[n, c, o]: each output's gradient goes to the ONE input it took; overlapping windows that picked the same input add up (in output order, as torch adds them). Forward keeps only each window's kernel offset (one byte for up to 256 offsets); the flat input index is rebuilt from it. which input a tie routes the gradient to: torch's CPU kernel scans each window row-major and replaces the running max only on val > max || isnan(val), so the FIRST of tied maxima wins (and the LAST NaN, which wins over any number); a window of all -inf keeps its first valid position. _pool.sliding_max runs the same scan for all windows at once, one kernel offset (a strided view of the input) at a time. The indices torch returns are flat over the *unpadded* input's spatial dims. The padding limit ignores the dilation, although the kernel's error message speaks of the \"effective kernel size\"."
},
{
"name": "MaxPool2d",
"family": "Pooling",
"href": "MaxPool2d.html",
"summary": "y[n, c, o] = max_{k} x_pad[n, c, o*stride + k*dilation] over each 2-D window.",
"text": "y[n, c, o] = max_{k} x_pad[n, c, o*stride + k*dilation] over each 2-D window. dx[n, c, argmax(o)] += dy[n, c, o]: each output's gradient goes to the ONE input it took; overlapping windows that picked the same input add up (in output order, as torch adds them). Forward keeps only each window's kernel offset (one byte for up to 256 offsets); the flat input index is rebuilt from it. which input a tie routes the gradient to: torch's CPU kernel scans each window row-major and replaces the running max only on val > max || isnan(val), so the FIRST of tied maxima wins (and the LAST NaN, which wins over any number); a window of all -inf keeps its first valid position. _pool.sliding_max runs the same scan for all windows at once, one kernel offset (a strided view of the input) at a time. The indices torch returns are flat over the *unpadded* input's spatial dims. The padding limit ignores the dilation, although the kernel's error message speaks of the \"effective kernel size\"."
},
{
"name": "AdaptiveAvgPool1d",
"family": "Pooling",
"href": "AdaptiveAvgPool1d.html",
"summary": "y[n, c, o..] = mean of x[n, c, window(o)..], along each axis the window [floor(o*S/O), ceil((o+1)*S/O)).",
"text": "y[n, c, o..] = mean of x[n, c, window(o)..], along each axis the window [floor(o*S/O), ceil((o+1)*S/O)). dx = the forward's window sums transposed, divided by each window's size: with the 0/1 window matrices M_i (O_i, S_i) of the forward y = x ×_1 M_1 ... ×_1 M_1 / div (one matmul per axis), dx = (dy / div) ×_1 M_1^T ... ×_1 M_1^T. windows have different sizes and may overlap (S=5 → 3 windows of 2, 3, 2), so this is not an AvgPool with some fixed kernel; each output divides by its own size. The window mean is separable, so it is one matmul per axis here (_pool.along) rather than torch's per-window loop; an input holding ±inf takes the windows themselves instead (inf * 0 in a matmul would make every window NaN)."
},
{
"name": "AdaptiveAvgPool3d",
"family": "Pooling",
"href": "AdaptiveAvgPool3d.html",
"summary": "y[n, c, o..] = mean of x[n, c, window(o)..], along each axis the window [floor(o*S/O), ceil((o+1)*S/O)).",
"text": "y[n, c, o..] = mean of x[n, c, window(o)..], along each axis the window [floor(o*S/O), ceil((o+1)*S/O)). dx = the forward's window sums transposed, divided by each window's size: with the 0/1 window matrices M_i (O_i, S_i) of the forward y = x ×_1 M_1 ... ×_3 M_3 / div (one matmul per axis), dx = (dy / div) ×_1 M_1^T ... ×_3 M_3^T. windows have different sizes and may overlap (S=5 → 3 windows of 2, 3, 2), so this is not an AvgPool with some fixed kernel; each output divides by its own size. The window mean is separable, so it is one matmul per axis here (_pool.along) rather than torch's per-window loop; an input holding ±inf takes the windows themselves instead (inf * 0 in a matmul would make every window NaN)."
},
{
"name": "AdaptiveMaxPool1d",
"family": "Pooling",
"href": "AdaptiveMaxPool1d.html",
"summary": "y[n, c, o..] = max of x[n, c, window(o)..] (AdaptiveAvgPool1d's windows).",
"text": "y[n, c, o..] = max of x[n, c, window(o)..] (AdaptiveAvgPool1d's windows). dx[n, c, argmax(o)] += dy[n, c, o] ties go to the first maximum in row-major scan order (a NaN wins, the last NaN), as in MaxPool1d; overlapping adaptive windows may pick the same input, whose gradient then adds up."
},
{
"name": "AdaptiveMaxPool3d",
"family": "Pooling",
"href": "AdaptiveMaxPool3d.html",
"summary": "y[n, c, o..] = max of x[n, c, window(o)..] (AdaptiveAvgPool3d's windows).",
"text": "y[n, c, o..] = max of x[n, c, window(o)..] (AdaptiveAvgPool3d's windows). dx[n, c, argmax(o)] += dy[n, c, o] ties go to the first maximum in row-major scan order (a NaN wins, the last NaN), as in MaxPool3d; overlapping adaptive windows may pick the same input, whose gradient then adds up."
},
{
"name": "AvgPool1d",
"family": "Pooling",
"href": "AvgPool1d.html",
"summary": "y[n, c, o] = sum_{k in window(o)} x[n, c, k] / divisor(o) over each 1-D window.",
"text": "y[n, c, o] = sum_{k in window(o)} x[n, c, k] / divisor(o) over each 1-D window. y_{n,c,o} = frac{1}{|w(o)|}sum_{k in w(o)} x_{n,c,k} dx[n, c, i] = sum over the windows o containing i of dy[n, c, o] / divisor(o): the transposed convolution with a ones kernel, done as an overlap-add over the kernel offsets (_pool.window_sum_grad). the divisor is per output pixel: with count_include_pad it is the window clipped to the *padded* input (so a ceil_mode window hanging past the padding is divided by fewer than prod(kernel_size)), without it only real inputs count (torch has no divisor_override in 1-D; its kernel is avg_pool2d on an unsqueezed input)."
},
{
"name": "AvgPool3d",
"family": "Pooling",
"href": "AvgPool3d.html",
"summary": "y[n, c, o] = sum_{k in window(o)} x[n, c, k] / divisor(o) over each 3-D window.",
"text": "y[n, c, o] = sum_{k in window(o)} x[n, c, k] / divisor(o) over each 3-D window. y_{n,c,o} = frac{1}{|w(o)|}sum_{k in w(o)} x_{n,c,k} dx[n, c, i] = sum over the windows o containing i of dy[n, c, o] / divisor(o): the transposed convolution with a ones kernel, done as an overlap-add over the kernel offsets (_pool.window_sum_grad). the divisor is per output pixel: with count_include_pad it is the window clipped to the *padded* input (so a ceil_mode window hanging past the padding is divided by fewer than prod(kernel_size)), without it only real inputs count; divisor_override replaces both."
},
{
"name": "MaxPool3d",
"family": "Pooling",
"href": "MaxPool3d.html",
"summary": "y[n, c, o] = max_{k} x_pad[n, c, o*stride + k*dilation] over each 3-D window.",
"text": "y[n, c, o] = max_{k} x_pad[n, c, o*stride + k*dilation] over each 3-D window. dx[n, c, argmax(o)] += dy[n, c, o]: each output's gradient goes to the ONE input it took; overlapping windows that picked the same input add up (in output order, as torch adds them). Forward keeps only each window's kernel offset (one byte for up to 256 offsets); the flat input index is rebuilt from it. which input a tie routes the gradient to: torch's CPU kernel scans each window row-major and replaces the running max only on val > max || isnan(val), so the FIRST of tied maxima wins (and the LAST NaN, which wins over any number); a window of all -inf keeps its first valid position. _pool.sliding_max runs the same scan for all windows at once, one kernel offset (a strided view of the input) at a time. The indices torch returns are flat over the *unpadded* input's spatial dims. The padding limit ignores the dilation, although the kernel's error message speaks of the \"effective kernel size\"."
},
{
"name": "LPPool1d",
"family": "Pooling",
"href": "LPPool1d.html",
"summary": "y[n, c, o] = (sum_{k in window(o)} x[n, c, k]^p)^(1/p) over each 1-D window.",
"text": "y[n, c, o] = (sum_{k in window(o)} x[n, c, k]^p)^(1/p) over each 1-D window. with s = avg_pool(x^p) (window sum / window size n), K = prod(kernel_size), z = sign(s) * relu(|s|) * K and y = z^(1/p): dz = dy * (1/p) * z^(1/p - 1); ds = dz * K where s != 0, else 0; dx[i] = p * x[i]^(p-1) * sum over the windows o containing i of ds[o] / n[o]. p = ±inf: the max pool's gradient (to the chosen input) times sgn(x). it is computed as avg_pool(x^p) * K then the 1/p-th power, not as a sum: a ceil_mode window of n < K inputs is therefore scaled by K / n, as if the missing inputs equalled the window's mean (LPPool2d(2, 2, ceil_mode=True) on a 5x5 plane of ones gives 2 everywhere, not sqrt(2) on the border). sign(s) * relu(|s|) leaves s unchanged but zeroes its gradient where s = 0 (an all-zero window: no NaN from 0^(1/p - 1) = inf). For odd or fractional p, a negative x^p or window sum gives NaN, as in torch (no absolute value is taken)."
},
{
"name": "LPPool2d",
"family": "Pooling",
"href": "LPPool2d.html",
"summary": "y[n, c, o] = (sum_{k in window(o)} x[n, c, k]^p)^(1/p) over each 2-D window.",
"text": "y[n, c, o] = (sum_{k in window(o)} x[n, c, k]^p)^(1/p) over each 2-D window. with s = avg_pool(x^p) (window sum / window size n), K = prod(kernel_size), z = sign(s) * relu(|s|) * K and y = z^(1/p): dz = dy * (1/p) * z^(1/p - 1); ds = dz * K where s != 0, else 0; dx[i] = p * x[i]^(p-1) * sum over the windows o containing i of ds[o] / n[o]. p = ±inf: the max pool's gradient (to the chosen input) times sgn(x). it is computed as avg_pool(x^p) * K then the 1/p-th power, not as a sum: a ceil_mode window of n < K inputs is therefore scaled by K / n, as if the missing inputs equalled the window's mean (LPPool2d(2, 2, ceil_mode=True) on a 5x5 plane of ones gives 2 everywhere, not sqrt(2) on the border). sign(s) * relu(|s|) leaves s unchanged but zeroes its gradient where s = 0 (an all-zero window: no NaN from 0^(1/p - 1) = inf). For odd or fractional p, a negative x^p or window sum gives NaN, as in torch (no absolute value is taken)."
},
{
"name": "LPPool3d",
"family": "Pooling",
"href": "LPPool3d.html",
"summary": "y[n, c, o] = (sum_{k in window(o)} x[n, c, k]^p)^(1/p) over each 3-D window.",
"text": "y[n, c, o] = (sum_{k in window(o)} x[n, c, k]^p)^(1/p) over each 3-D window. with s = avg_pool(x^p) (window sum / window size n), K = prod(kernel_size), z = sign(s) * relu(|s|) * K and y = z^(1/p): dz = dy * (1/p) * z^(1/p - 1); ds = dz * K where s != 0, else 0; dx[i] = p * x[i]^(p-1) * sum over the windows o containing i of ds[o] / n[o]. p = ±inf: the max pool's gradient (to the chosen input) times sgn(x). it is computed as avg_pool(x^p) * K then the 1/p-th power, not as a sum: a ceil_mode window of n < K inputs is therefore scaled by K / n, as if the missing inputs equalled the window's mean (LPPool2d(2, 2, ceil_mode=True) on a 5x5 plane of ones gives 2 everywhere, not sqrt(2) on the border). sign(s) * relu(|s|) leaves s unchanged but zeroes its gradient where s = 0 (an all-zero window: no NaN from 0^(1/p - 1) = inf). For odd or fractional p, a negative x^p or window sum gives NaN, as in torch (no absolute value is taken)."
},
{
"name": "FractionalMaxPool2d",
"family": "Pooling",
"href": "FractionalMaxPool2d.html",
"summary": "y[n, c, o..] = max of x[n, c, start(o).. : start(o) + kernel_size..], the window starts drawn per plane: start_i = floor((i + u) * alpha) - floor(u * alpha), al",
"text": "y[n, c, o..] = max of x[n, c, start(o).. : start(o) + kernel_size..], the window starts drawn per plane: start_i = floor((i + u) * alpha) - floor(u * alpha), alpha = (S - k) / (O - 1), the last S - k, with u ~ U[0, 1) per (sample, channel, axis). dx[n, c, argmax(o)] += dy[n, c, o] (windows overlap where a step is shorter than the kernel: a shared winner gets the sum, added in output order as torch adds it). the samples are drawn in the *input's* dtype and the starts computed in it, so a float32 and a float64 run with \"the same\" u can place windows differently; _random_samples[..., 0] drives the WIDTH and [..., 1] the height (3-D reads them in T, H, W order). Ties go to the first maximum in row-major order, a NaN wins (the last NaN), as in MaxPool. Every window has the fixed size kernel_size (the paper's regions are the intervals between consecutive starts), so windows overlap where a step is shorter than the kernel and skip inputs where it is longer. The draw happens in eval mode too (torch never checks training)."
},
{
"name": "FractionalMaxPool3d",
"family": "Pooling",
"href": "FractionalMaxPool3d.html",
"summary": "y[n, c, o..] = max of x[n, c, start(o).. : start(o) + kernel_size..], the window starts drawn per plane: start_i = floor((i + u) * alpha) - floor(u * alpha), al",
"text": "y[n, c, o..] = max of x[n, c, start(o).. : start(o) + kernel_size..], the window starts drawn per plane: start_i = floor((i + u) * alpha) - floor(u * alpha), alpha = (S - k) / (O - 1), the last S - k, with u ~ U[0, 1) per (sample, channel, axis). dx[n, c, argmax(o)] += dy[n, c, o] (windows overlap where a step is shorter than the kernel: a shared winner gets the sum, added in output order as torch adds it). the samples are drawn in the *input's* dtype and the starts computed in it, so a float32 and a float64 run with \"the same\" u can place windows differently; the samples drive T, H, W in that order (2-D reads them as W, H), and 3-D needs O + k - 1 < S where 2-D allows equality. Ties go to the first maximum in row-major order, a NaN wins (the last NaN), as in MaxPool. Every window has the fixed size kernel_size (the paper's regions are the intervals between consecutive starts), so windows overlap where a step is shorter than the kernel and skip inputs where it is longer. The draw happens in eval mode too (torch never checks training)."
},
{
"name": "MaxUnpool1d",
"family": "Pooling",
"href": "MaxUnpool1d.html",
"summary": "y[n, c, idx[n, c, i]] = x[n, c, i], zero elsewhere: MaxPool1d's partial inverse.",
"text": "y[n, c, idx[n, c, i]] = x[n, c, i], zero elsewhere: MaxPool1d's partial inverse. dx[n, c, i] = dy[n, c, idx[n, c, i]]: a gather (the indices get None). where several inputs carry the same index (overlapping pooling windows that chose one input), the forward keeps the LAST of them (the CPU kernel writes in order), but the backward is a gather, so EVERY one of them receives that position's gradient: the gradient is not the derivative of the forward there ([1, 2, 3] with indices [1, 1, 0] gives [3, 2, 0, ...], and an upstream [10, 20, ...] gives [20, 20, 10]). MaxUnpool1d is max_unpool2d on an unsqueezed input."
},
{
"name": "MaxUnpool2d",
"family": "Pooling",
"href": "MaxUnpool2d.html",
"summary": "y[n, c, idx[n, c, i]] = x[n, c, i], zero elsewhere: MaxPool2d's partial inverse.",
"text": "y[n, c, idx[n, c, i]] = x[n, c, i], zero elsewhere: MaxPool2d's partial inverse. dx[n, c, i] = dy[n, c, idx[n, c, i]]: a gather (the indices get None). where several inputs carry the same index (overlapping pooling windows that chose one input), the forward keeps the LAST of them (the CPU kernel writes in order), but the backward is a gather, so EVERY one of them receives that position's gradient: the gradient is not the derivative of the forward there ([1, 2, 3] with indices [1, 1, 0] gives [3, 2, 0, ...], and an upstream [10, 20, ...] gives [20, 20, 10]). MaxUnpool1d is max_unpool2d on an unsqueezed input."
},
{
"name": "MaxUnpool3d",
"family": "Pooling",
"href": "MaxUnpool3d.html",
"summary": "y[n, c, idx[n, c, i]] = x[n, c, i], zero elsewhere: MaxPool3d's partial inverse.",
"text": "y[n, c, idx[n, c, i]] = x[n, c, i], zero elsewhere: MaxPool3d's partial inverse. dx[n, c, i] = dy[n, c, idx[n, c, i]]: a gather (the indices get None). where several inputs carry the same index (overlapping pooling windows that chose one input), the forward keeps the LAST of them (the CPU kernel writes in order), but the backward is a gather, so EVERY one of them receives that position's gradient: the gradient is not the derivative of the forward there ([1, 2, 3] with indices [1, 1, 0] gives [3, 2, 0, ...], and an upstream [10, 20, ...] gives [20, 20, 10]). MaxUnpool1d is max_unpool2d on an unsqueezed input."
},
{
"name": "CircularPad1d",
"family": "Padding",
"href": "CircularPad1d.html",
"summary": "y[..., j] = xc[..., (j - left) mod S_c], xc the input after the negative sides crop it: the border wraps around (1-D).",
"text": "y[..., j] = xc[..., (j - left) mod S_c], xc the input after the negative sides crop it: the border wraps around (1-D). dx[i] = sum of dy[j] over the outputs j that copy input i: the wrapped copies' gradients land on the opposite end of the input. torch crops *first* and wraps what is left: CircularPad1d((-1, 2)) on [0 1 2 3 4] gives [1 2 3 4 1 2], where reflect's rule (indexing the uncropped input) would give [1 2 3 4 0 1]. A pad larger than what is left after the opposite crop passes torch's own check and then fails on overlapping memory, or, when nothing is left ((-5, 1) on 5 elements), returns uninitialised memory: npimpl raises ValueError. The rank check lives in the module (a ValueError), not in F.pad."
},
{
"name": "CircularPad2d",
"family": "Padding",
"href": "CircularPad2d.html",
"summary": "y[..., j] = xc[..., (j - left) mod S_c], xc the input after the negative sides crop it: the border wraps around (2-D).",
"text": "y[..., j] = xc[..., (j - left) mod S_c], xc the input after the negative sides crop it: the border wraps around (2-D). dx[i] = sum of dy[j] over the outputs j that copy input i: the wrapped copies' gradients land on the opposite end of the input. torch crops *first* and wraps what is left: CircularPad1d((-1, 2)) on [0 1 2 3 4] gives [1 2 3 4 1 2], where reflect's rule (indexing the uncropped input) would give [1 2 3 4 0 1]. A pad larger than what is left after the opposite crop passes torch's own check and then fails on overlapping memory, or, when nothing is left ((-5, 1) on 5 elements), returns uninitialised memory: npimpl raises ValueError. The rank check lives in the module (a ValueError), not in F.pad."
},
{
"name": "CircularPad3d",
"family": "Padding",
"href": "CircularPad3d.html",
"summary": "y[..., j] = xc[..., (j - left) mod S_c], xc the input after the negative sides crop it: the border wraps around (3-D).",
"text": "y[..., j] = xc[..., (j - left) mod S_c], xc the input after the negative sides crop it: the border wraps around (3-D). dx[i] = sum of dy[j] over the outputs j that copy input i: the wrapped copies' gradients land on the opposite end of the input. torch crops *first* and wraps what is left: CircularPad1d((-1, 2)) on [0 1 2 3 4] gives [1 2 3 4 1 2], where reflect's rule (indexing the uncropped input) would give [1 2 3 4 0 1]. A pad larger than what is left after the opposite crop passes torch's own check and then fails on overlapping memory, or, when nothing is left ((-5, 1) on 5 elements), returns uninitialised memory: npimpl raises ValueError. The rank check lives in the module (a ValueError), not in F.pad."
},
{
"name": "ConstantPad1d",
"family": "Padding",
"href": "ConstantPad1d.html",
"summary": "y[..., j] = x[..., j - left] inside, value in the border, per padded dim (1-D).",
"text": "y[..., j] = x[..., j - left] inside, value in the border, per padded dim (1-D). dx = dy with the border cut off (zero where the forward cropped): the adjoint of embedding x in a constant frame. value gets no gradient. a crop is narrow: it may empty a dim ((-3, -2) on 5 elements), never go past it. The padding parser takes a tuple of any length (ZeroPad2d((1, 2)) pads only the last dim, ZeroPad1d((1, 1, 1, 1)) two dims): npimpl asks for exactly 2."
},
{
"name": "ConstantPad2d",
"family": "Padding",
"href": "ConstantPad2d.html",
"summary": "y[..., j] = x[..., j - left] inside, value in the border, per padded dim (2-D).",
"text": "y[..., j] = x[..., j - left] inside, value in the border, per padded dim (2-D). dx = dy with the border cut off (zero where the forward cropped): the adjoint of embedding x in a constant frame. value gets no gradient. a crop is narrow: it may empty a dim ((-3, -2) on 5 elements), never go past it. The padding parser takes a tuple of any length (ZeroPad2d((1, 2)) pads only the last dim, ZeroPad1d((1, 1, 1, 1)) two dims): npimpl asks for exactly 4."
},
{
"name": "ConstantPad3d",
"family": "Padding",
"href": "ConstantPad3d.html",
"summary": "y[..., j] = x[..., j - left] inside, value in the border, per padded dim (3-D).",
"text": "y[..., j] = x[..., j - left] inside, value in the border, per padded dim (3-D). dx = dy with the border cut off (zero where the forward cropped): the adjoint of embedding x in a constant frame. value gets no gradient. a crop is narrow: it may empty a dim ((-3, -2) on 5 elements), never go past it. The padding parser takes a tuple of any length (ZeroPad2d((1, 2)) pads only the last dim, ZeroPad1d((1, 1, 1, 1)) two dims): npimpl asks for exactly 6."
},
{
"name": "ReflectionPad1d",
"family": "Padding",
"href": "ReflectionPad1d.html",
"summary": "y[..., j] = x[..., r(j - left)], r(p) = |p|, and 2(S-1) - p past the end: the border mirrors the input about its edge pixels (1-D).",
"text": "y[..., j] = x[..., r(j - left)], r(p) = |p|, and 2(S-1) - p past the end: the border mirrors the input about its edge pixels (1-D). dx[i] = sum of dy[j] over the outputs j with r(j - left) = i: a pixel near the edge receives its own gradient plus its mirror images'; the edge pixel itself is never a mirror image. the mirror stays at the *original* edges when the other side crops: ReflectionPad1d with (-1, 2) on [0 1 2 3 4] gives [1 2 3 4 3 2], with (-6, 2) gives [2] (torch's kernel indexes the uncropped input). A pad equal to the size would need the edge pixel twice, so torch refuses it (a RuntimeError; ValueError here)."
},
{
"name": "ReflectionPad2d",
"family": "Padding",
"href": "ReflectionPad2d.html",
"summary": "y[..., j] = x[..., r(j - left)], r(p) = |p|, and 2(S-1) - p past the end: the border mirrors the input about its edge pixels (2-D).",
"text": "y[..., j] = x[..., r(j - left)], r(p) = |p|, and 2(S-1) - p past the end: the border mirrors the input about its edge pixels (2-D). dx[i] = sum of dy[j] over the outputs j with r(j - left) = i: a pixel near the edge receives its own gradient plus its mirror images'; the edge pixel itself is never a mirror image. the mirror stays at the *original* edges when the other side crops: ReflectionPad1d with (-1, 2) on [0 1 2 3 4] gives [1 2 3 4 3 2], with (-6, 2) gives [2] (torch's kernel indexes the uncropped input). A pad equal to the size would need the edge pixel twice, so torch refuses it (a RuntimeError; ValueError here)."
},
{
"name": "ReflectionPad3d",
"family": "Padding",
"href": "ReflectionPad3d.html",
"summary": "y[..., j] = x[..., r(j - left)], r(p) = |p|, and 2(S-1) - p past the end: the border mirrors the input about its edge pixels (3-D).",
"text": "y[..., j] = x[..., r(j - left)], r(p) = |p|, and 2(S-1) - p past the end: the border mirrors the input about its edge pixels (3-D). dx[i] = sum of dy[j] over the outputs j with r(j - left) = i: a pixel near the edge receives its own gradient plus its mirror images'; the edge pixel itself is never a mirror image. the mirror stays at the *original* edges when the other side crops: ReflectionPad1d with (-1, 2) on [0 1 2 3 4] gives [1 2 3 4 3 2], with (-6, 2) gives [2] (torch's kernel indexes the uncropped input). A pad equal to the size would need the edge pixel twice, so torch refuses it (a RuntimeError; ValueError here)."
},
{
"name": "ReplicationPad1d",
"family": "Padding",
"href": "ReplicationPad1d.html",
"summary": "y[..., j] = x[..., clamp(j - left, 0, S - 1)]: the edge pixel repeated outward (1-D).",
"text": "y[..., j] = x[..., clamp(j - left, 0, S - 1)]: the edge pixel repeated outward (1-D). dx = dy over the interior, and each edge pixel adds the gradients of all its copies. the clamp is taken in the uncropped input: a crop past the end of the input (ReplicationPad1d((-6, 2)) on 5 elements) still reads the edge pixel, so the output is [x[4]] rather than an error."
},
{
"name": "ReplicationPad2d",
"family": "Padding",
"href": "ReplicationPad2d.html",
"summary": "y[..., j] = x[..., clamp(j - left, 0, S - 1)]: the edge pixel repeated outward (2-D).",
"text": "y[..., j] = x[..., clamp(j - left, 0, S - 1)]: the edge pixel repeated outward (2-D). dx = dy over the interior, and each edge pixel adds the gradients of all its copies. the clamp is taken in the uncropped input: a crop past the end of the input (ReplicationPad1d((-6, 2)) on 5 elements) still reads the edge pixel, so the output is [x[4]] rather than an error."
},
{
"name": "ReplicationPad3d",
"family": "Padding",
"href": "ReplicationPad3d.html",
"summary": "y[..., j] = x[..., clamp(j - left, 0, S - 1)]: the edge pixel repeated outward (3-D).",
"text": "y[..., j] = x[..., clamp(j - left, 0, S - 1)]: the edge pixel repeated outward (3-D). dx = dy over the interior, and each edge pixel adds the gradients of all its copies. the clamp is taken in the uncropped input: a crop past the end of the input (ReplicationPad1d((-6, 2)) on 5 elements) still reads the edge pixel, so the output is [x[4]] rather than an error."
},
{
"name": "ZeroPad1d",
"family": "Padding",
"href": "ZeroPad1d.html",
"summary": "y[..., j] = x[..., j - left] inside, 0 in the border, per padded dim (1-D).",
"text": "y[..., j] = x[..., j - left] inside, 0 in the border, per padded dim (1-D). dx = dy with the border cut off (zero where the forward cropped): the adjoint of embedding x in a constant frame. value gets no gradient. a crop is narrow: it may empty a dim ((-3, -2) on 5 elements), never go past it. The padding parser takes a tuple of any length (ZeroPad2d((1, 2)) pads only the last dim, ZeroPad1d((1, 1, 1, 1)) two dims): npimpl asks for exactly 2."
},
{
"name": "ZeroPad2d",
"family": "Padding",
"href": "ZeroPad2d.html",
"summary": "y[..., j] = x[..., j - left] inside, 0 in the border, per padded dim (2-D).",
"text": "y[..., j] = x[..., j - left] inside, 0 in the border, per padded dim (2-D). dx = dy with the border cut off (zero where the forward cropped): the adjoint of embedding x in a constant frame. value gets no gradient. a crop is narrow: it may empty a dim ((-3, -2) on 5 elements), never go past it. The padding parser takes a tuple of any length (ZeroPad2d((1, 2)) pads only the last dim, ZeroPad1d((1, 1, 1, 1)) two dims): npimpl asks for exactly 4."
},
{
"name": "ZeroPad3d",
"family": "Padding",
"href": "ZeroPad3d.html",
"summary": "y[..., j] = x[..., j - left] inside, 0 in the border, per padded dim (3-D).",
"text": "y[..., j] = x[..., j - left] inside, 0 in the border, per padded dim (3-D). dx = dy with the border cut off (zero where the forward cropped): the adjoint of embedding x in a constant frame. value gets no gradient. a crop is narrow: it may empty a dim ((-3, -2) on 5 elements), never go past it. The padding parser takes a tuple of any length (ZeroPad2d((1, 2)) pads only the last dim, ZeroPad1d((1, 1, 1, 1)) two dims): npimpl asks for exactly 6."
},
{
"name": "Upsample",
"family": "Resampling and rearranging",
"href": "Upsample.html",
"summary": "y[n, c, j] = sum_t w_t(j) x[n, c, idx_t(j)] per spatial axis: nearest, linear or cubic interpolation to a new size.",
"text": "y[n, c, j] = sum_t w_t(j) x[n, c, idx_t(j)] per spatial axis: nearest, linear or cubic interpolation to a new size. the adjoint of a fixed linear map: per axis dx[i] += w_t(j) dy[j] for every output j and tap t with idx_t(j) = i. Nearest routes each dy to the one pixel it copied (a pixel copied k times receives k gradients); linear splits it (1-t, t); bicubic scatters into clamp(i0-1+k, 0, in-1), so a border pixel collects the weights of up to three out-of-range neighbours. 'nearest' takes floor(j * in/out) (OpenCV's rule, half a pixel off centre) and 'nearest-exact' floor((j + 0.5) * in/out) (PIL's and scikit-image's), and which neighbour that is depends on rounding: torch's 2-D kernel and every backward kernel compute in float32 (26 pixels to 22: output 11 copies pixel 12, not 13), its 1-D and 3-D forward kernels in the input's precision. A scale_factor reaches the index maps as 1/scale_factor (5 pixels at 2.104 → 10 outputs sampled every 1/2.104, not every 5/10: pixel 0 is copied three times) unless recompute_scale_factor. Where a size is unchanged, the linear modes copy that axis whatever scale_factor says (1.1 on 5 pixels), and so does 2-D 'nearest' (which also takes j >> 1 on a doubled size); 1-D and 3-D 'nearest' and bicubic follow the scale in their forward, while their *backward* kernels keep the shortcuts (bicubic's: all sizes unchanged) and the float32 rule. There torch's gradient is not the adjoint of its forward; npimpl's is, and tests/test_upsampling.py measures the gap. Linear clamps a negative source position to 0; bicubic does not (it needs the neighbour at -1, read as the clamped border pixel), with Keys' A = -0.75."
},
{
"name": "UpsamplingBilinear2d",
"family": "Resampling and rearranging",
"href": "UpsamplingBilinear2d.html",
"summary": "Upsample(size, scale_factor, mode='bilinear', align_corners=True): src = j (in-1)/(out-1) per axis, then bilinear weights.",
"text": "Upsample(size, scale_factor, mode='bilinear', align_corners=True): src = j (in-1)/(out-1) per axis, then bilinear weights. each dy splits onto the 4 input pixels around its source point with the bilinear weights (1-t_h)(1-t_w), (1-t_h) t_w, t_h (1-t_w), t_h t_w. deprecated; it is the one place where align_corners=True is the default, so the corner pixels map onto each other and the scale_factor never enters the index map ((in-1)/(out-1) does)."
},
{
"name": "UpsamplingNearest2d",
"family": "Resampling and rearranging",
"href": "UpsamplingNearest2d.html",
"summary": "Upsample(size, scale_factor, mode='nearest'): y[n, c, i, j] = x[n, c, floor(i * H/H_out), floor(j * W/W_out)].",
"text": "Upsample(size, scale_factor, mode='nearest'): y[n, c, i, j] = x[n, c, floor(i * H/H_out), floor(j * W/W_out)]. dx[n, c, h, w] = the sum of dy over the output pixels that copied (h, w). deprecated in favour of F.interpolate; despite the name it is plain mode='nearest' on whatever it gets, so a 3-D or 5-D input is resampled in 1-D or 3-D rather than refused."
},
{
"name": "PixelShuffle",
"family": "Resampling and rearranging",
"href": "PixelShuffle.html",
"summary": "y[..., c, h*r + i, w*r + j] = x[..., c*r^2 + i*r + j, h, w]: channels become sub-pixels.",
"text": "y[..., c, h*r + i, w*r + j] = x[..., c*r^2 + i*r + j, h, w]: channels become sub-pixels. dx = PixelUnshuffle(r)(dy): the inverse permutation, no arithmetic. the channel splits as (c, i, j), the output channel outermost, so the r^2 sub-pixels of one output channel are *consecutive* input channels (what a sub-pixel convolution's weight layout must follow); an empty batch, channel or spatial dim is fine."
},
{
"name": "PixelUnshuffle",
"family": "Resampling and rearranging",
"href": "PixelUnshuffle.html",
"summary": "y[..., c*r^2 + i*r + j, h, w] = x[..., c, h*r + i, w*r + j]: sub-pixels become channels.",
"text": "y[..., c*r^2 + i*r + j, h, w] = x[..., c, h*r + i, w*r + j]: sub-pixels become channels. dx = PixelShuffle(r)(dy). exactly the inverse of PixelShuffle's layout ((c, i, j), channel outermost), so PixelShuffle(r)(PixelUnshuffle(r)(x)) == x bit for bit."
},
{
"name": "ChannelShuffle",
"family": "Resampling and rearranging",
"href": "ChannelShuffle.html",
"summary": "y[n, c*g + k] = x[n, k*(C/g) + c]: channel c of group k moves to position c*g + k.",
"text": "y[n, c*g + k] = x[n, k*(C/g) + c]: channel c of group k moves to position c*g + k. dx = the inverse permutation of dy's channels, n (c g) ... -> n (g c) .... it is view(N, g, C/g, *).transpose(1, 2) flattened back; with g == C or g == 1 nothing moves. torch refuses a 2-D (N, C) input, so there is no unbatched form."
},
{
"name": "Fold",
"family": "Resampling and rearranging",
"href": "Fold.html",
"summary": "y[n, c, h, w] = sum of x[n, (c, a, b), l] over the blocks l and offsets (a, b) that land on (h, w): columns added back into an image (col2im).",
"text": "y[n, c, h, w] = sum of x[n, (c, a, b), l] over the blocks l and offsets (a, b) that land on (h, w): columns added back into an image (col2im). dx = Unfold(dy): each column entry reads the gradient of the pixel it was added to. Fold is the adjoint of Unfold, not its inverse: Fold(Unfold(x)) multiplies each pixel by the number of blocks covering it (divide by Fold(Unfold(ones)) to invert). Blocks reaching into the padding add there, and that part is cut off."
},
{
"name": "Unfold",
"family": "Resampling and rearranging",
"href": "Unfold.html",
"summary": "y[n, (c, a, b), l] = x_pad[n, c, i_l*s_h + a*d_h, j_l*s_w + b*d_w]: every sliding block as a column (im2col).",
"text": "y[n, (c, a, b), l] = x_pad[n, c, i_l*s_h + a*d_h, j_l*s_w + b*d_w]: every sliding block as a column (im2col). dx = Fold(dy): each column entry's gradient is added back onto the pixel it copied, so a pixel in k overlapping blocks gets k contributions; the padding's are dropped. the column index runs over (c, a, b) with the channel outermost (the layout of a flattened Conv2d weight (C_out, C*kh*kw), so W @ Unfold(x) is a convolution) and the blocks are row-major; only 2-D images (no 1-D or 3-D unfold), and a 1-tuple argument is an error rather than broadcast."
},
{
"name": "Dropout",
"family": "Normalization, dropout and embeddings",
"href": "Dropout.html",
"summary": "y = x * m / (1 - p) with m ~ Bernoulli(1 - p) per element in training; y = x in eval.",
"text": "y = x * m / (1 - p) with m ~ Bernoulli(1 - p) per element in training; y = x in eval. y = frac{m odot x}{1 - p}, quad m_i sim mathrm{Bernoulli}(1 - p) text{ (training)}; qquad y = x text{ (eval)} dx = dy * m / (1 - p) (the same mask; eval: dx = dy) the scaling happens at *training* time (\"inverted dropout\"), so that the expected output equals the input and eval is the identity (the original paper scaled by 1 - p at test time instead); the mask is bernoulli(1 - p) / (1 - p) computed in the input's dtype; with p = 1 torch multiplies by 0 (zeros, not 0 * 1/0 = NaN; but a NaN input stays NaN) and the gradient is 0."
},
{
"name": "Dropout1d",
"family": "Normalization, dropout and embeddings",
"href": "Dropout1d.html",
"summary": "y[n, c] = x[n, c] * m[n, c] / (1 - p): whole channels of a sequence are zeroed in training.",
"text": "y[n, c] = x[n, c] * m[n, c] / (1 - p): whole channels of a sequence are zeroed in training. dx = dy * m / (1 - p), the mask broadcast along L. unlike Dropout2d/3d, Dropout1d does treat a missing batch dim as unbatched: it adds one, runs feature_dropout (one Bernoulli per (dim 0, dim 1) pair) and removes it, so a (C, L) input loses whole channels."
},
{
"name": "Dropout2d",
"family": "Normalization, dropout and embeddings",
"href": "Dropout2d.html",
"summary": "y[n, c] = x[n, c] * m[n, c] / (1 - p): whole channels are zeroed in training.",
"text": "y[n, c] = x[n, c] * m[n, c] / (1 - p): whole channels are zeroed in training. dx = dy * m / (1 - p), the mask broadcast over the spatial dims. torch's Dropout2d is feature_dropout: it draws one Bernoulli per (dim 0, dim 1) pair whatever the rank, so an unbatched (C, H, W) image gets 1-D dropout over its rows (pytorch/pytorch#77081), not channel dropout; the scaling is 1/(1 - p) as in :class:Dropout."
},
{
"name": "Dropout3d",
"family": "Normalization, dropout and embeddings",
"href": "Dropout3d.html",
"summary": "y[n, c] = x[n, c] * m[n, c] / (1 - p): whole volumes are zeroed in training.",
"text": "y[n, c] = x[n, c] * m[n, c] / (1 - p): whole volumes are zeroed in training. dx = dy * m / (1 - p), the mask broadcast over the spatial dims. dropout3d adds a batch dim to every input that is not 5-D, runs feature_dropout (one Bernoulli per (dim 0, dim 1) pair) and removes it again: right for an unbatched (C, D, H, W) volume, but a 3-D (N, C, L) batch then loses whole *samples*, not channels (torch only warns)."
},
{
"name": "LayerNorm",
"family": "Normalization, dropout and embeddings",
"href": "LayerNorm.html",
"summary": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias over the trailing dims.",
"text": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias over the trailing dims. mu = frac{1}{n}sum_i x_i, quad sigma^2 = frac{1}{n}sum_i (x_i - mu)^2, quad hat x = frac{x - mu}{sqrt{sigma^2 + epsilon}}, quad y = gamma odot hat x + beta with g = dy * weight: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) over the normalised dims; dweight += sum(dy * xhat); dbias += sum(dy) (sums over *). the variance is the *biased* one (divide by n, not n - 1), eps sits inside the square root (1/sqrt(var + eps), not 1/(std + eps)), each sample is normalised on its own so train and eval agree and there are no buffers; the CPU kernel computes mean and variance in one Welford pass, and its autograd node saves the input, the weight, the bias, mean and rstd for the backward (npimpl's cache keeps xhat and rstd). In float32 from |x| ~ 1e20 (the squares pass float32's 3.4e38) torch's output and gradient are 0 or NaN, row by row; here such a row is rescaled by its largest |x - mean| first, so the answer is the exact one that float64 gives (the report judges that case against torch in float64: \"torch is off\"). This is also GroupNorm's and InstanceNorm's arithmetic."
},
{
"name": "RMSNorm",
"family": "Normalization, dropout and embeddings",
"href": "RMSNorm.html",
"summary": "y = x / sqrt(mean(x^2) + eps) * weight over the trailing dims (no centring, no bias).",
"text": "y = x / sqrt(mean(x^2) + eps) * weight over the trailing dims (no centring, no bias). hat x = frac{x}{sqrt{frac{1}{n}sum_i x_i^2 + epsilon}}, qquad y = gamma odot hat x with g = dy * weight: dx = rrms * (g - xhat * mean(g * xhat)); dweight += sum(dy * xhat). the default eps is not a fixed number but the machine epsilon of the *input's* dtype, so the same module normalises float32 and float64 inputs with different eps; there is no bias even with elementwise_affine; and, unlike LayerNorm, the mean is not subtracted, so a constant row is not mapped to 0."
},
{
"name": "BatchNorm1d",
"family": "Normalization, dropout and embeddings",
"href": "BatchNorm1d.html",
"summary": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias per channel, over the batch.",
"text": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias per channel, over the batch. mu_c = mathrm{mean}_{n,ast}\\, x_{n,c,ast}, quad sigma_c^2 = mathrm{mean}_{n,ast} (x - mu_c)^2, quad y = gamma_c frac{x - mu_c}{sqrt{sigma_c^2 + epsilon}} + beta_c training, with g = dy * weight: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (computed here in seven numbered steps undoing the forward's); eval: dx = dy * weight / sqrt(running_var + eps); dweight += sum(dy * xhat); dbias += sum(dy) (sums over every dim but 1). training normalises with the *biased* batch variance (divide by n) but stores the *unbiased* one (n / (n - 1)) in running_var; the update is running = (1 - momentum) * running + momentum * batch, so torch's momentum is the weight of the *new* batch, the opposite of Keras's (momentum * old + (1 - momentum) * batch, default 0.99, i.e. torch's 0.01); eps sits inside the square root; num_batches_tracked is an int64 0-d buffer that only counts (it matters only for momentum=None); a training batch with one value per channel raises because its variance is 0 and the unbiased one undefined."
},
{
"name": "BatchNorm2d",
"family": "Normalization, dropout and embeddings",
"href": "BatchNorm2d.html",
"summary": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias per channel, over the batch.",
"text": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias per channel, over the batch. mu_c = mathrm{mean}_{n,ast}\\, x_{n,c,ast}, quad sigma_c^2 = mathrm{mean}_{n,ast} (x - mu_c)^2, quad y = gamma_c frac{x - mu_c}{sqrt{sigma_c^2 + epsilon}} + beta_c training, with g = dy * weight: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (computed here in seven numbered steps undoing the forward's); eval: dx = dy * weight / sqrt(running_var + eps); dweight += sum(dy * xhat); dbias += sum(dy) (sums over every dim but 1). training normalises with the *biased* batch variance (divide by n) but stores the *unbiased* one (n / (n - 1)) in running_var; the update is running = (1 - momentum) * running + momentum * batch, so torch's momentum is the weight of the *new* batch, the opposite of Keras's (momentum * old + (1 - momentum) * batch, default 0.99, i.e. torch's 0.01); eps sits inside the square root; num_batches_tracked is an int64 0-d buffer that only counts (it matters only for momentum=None); a training batch with one value per channel raises because its variance is 0 and the unbiased one undefined."
},
{
"name": "BatchNorm3d",
"family": "Normalization, dropout and embeddings",
"href": "BatchNorm3d.html",
"summary": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias per channel, over the batch.",
"text": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias per channel, over the batch. mu_c = mathrm{mean}_{n,ast}\\, x_{n,c,ast}, quad sigma_c^2 = mathrm{mean}_{n,ast} (x - mu_c)^2, quad y = gamma_c frac{x - mu_c}{sqrt{sigma_c^2 + epsilon}} + beta_c training, with g = dy * weight: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (computed here in seven numbered steps undoing the forward's); eval: dx = dy * weight / sqrt(running_var + eps); dweight += sum(dy * xhat); dbias += sum(dy) (sums over every dim but 1). training normalises with the *biased* batch variance (divide by n) but stores the *unbiased* one (n / (n - 1)) in running_var; the update is running = (1 - momentum) * running + momentum * batch, so torch's momentum is the weight of the *new* batch, the opposite of Keras's (momentum * old + (1 - momentum) * batch, default 0.99, i.e. torch's 0.01); eps sits inside the square root; num_batches_tracked is an int64 0-d buffer that only counts (it matters only for momentum=None); a training batch with one value per channel raises because its variance is 0 and the unbiased one undefined."
},
{
"name": "GroupNorm",
"family": "Normalization, dropout and embeddings",
"href": "GroupNorm.html",
"summary": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics per (sample, group).",
"text": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics per (sample, group). hat x = frac{x - mu_{n,g}}{sqrt{sigma^2_{n,g} + epsilon}} text{ over the } C/G cdot textstyleprod(ast) text{ values of group } g, quad y = gamma_c hat x + beta_c with g = dy * weight[c], over each group's C/G * prod(*) values: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); dweight += sum(dy * xhat), dbias += sum(dy) over every dim but 1. the statistics are per group but the affine parameters per *channel*; G = 1 is LayerNorm over (C, *) with per-channel affine, G = C is InstanceNorm; the variance is biased and no running statistics exist, so train and eval agree."
},
{
"name": "InstanceNorm1d",
"family": "Normalization, dropout and embeddings",
"href": "InstanceNorm1d.html",
"summary": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics per (sample, channel) over L.",
"text": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics per (sample, channel) over L. instance statistics: with g = dy * weight[c], over each (n, c)'s L values, dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); running statistics: dx = dy * weight / sqrt(running_var + eps); dweight += sum(dy * xhat), dbias += sum(dy). torch runs it as BatchNorm on a (1, N*C, L) view with the running buffers repeated N times, then averages the N updated copies: running_var gets the mean over the batch of the per-instance *unbiased* variances (n = L), with torch's momentum direction (1 - m) * old + m * new; num_batches_tracked is registered but never incremented; defaults are affine=False and track_running_stats=False, so by default it has no parameters and no buffers."
},
{
"name": "InstanceNorm2d",
"family": "Normalization, dropout and embeddings",
"href": "InstanceNorm2d.html",
"summary": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics per (sample, channel) over (H, W).",
"text": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics per (sample, channel) over (H, W). instance statistics: with g = dy * weight[c], over each (n, c)'s H * W values, dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); running statistics: dx = dy * weight / sqrt(running_var + eps); dweight += sum(dy * xhat), dbias += sum(dy). torch runs it as BatchNorm on a (1, N*C, H, W) view with the running buffers repeated N times, then averages the N updated copies: running_var gets the mean over the batch of the per-instance *unbiased* variances (n = H * W), with torch's momentum direction (1 - m) * old + m * new; num_batches_tracked is registered but never incremented; defaults are affine=False and track_running_stats=False, so by default it has no parameters and no buffers."
},
{
"name": "InstanceNorm3d",
"family": "Normalization, dropout and embeddings",
"href": "InstanceNorm3d.html",
"summary": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics per (sample, channel) over (D, H, W).",
"text": "y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics per (sample, channel) over (D, H, W). instance statistics: with g = dy * weight[c], over each (n, c)'s D * H * W values, dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); running statistics: dx = dy * weight / sqrt(running_var + eps); dweight += sum(dy * xhat), dbias += sum(dy). torch runs it as BatchNorm on a (1, N*C, D, H, W) view with the running buffers repeated N times, then averages the N updated copies: running_var gets the mean over the batch of the per-instance *unbiased* variances (n = D * H * W), with torch's momentum direction (1 - m) * old + m * new; num_batches_tracked is registered but never incremented; defaults are affine=False and track_running_stats=False, so by default it has no parameters and no buffers."
},
{
"name": "Embedding",
"family": "Normalization, dropout and embeddings",
"href": "Embedding.html",
"summary": "y[..., :] = weight[input[...], :]: row lookup in a (num_embeddings, dim) table.",
"text": "y[..., :] = weight[input[...], :]: row lookup in a (num_embeddings, dim) table. y_{ldots, :} = W_{text{input}_{ldots}, :} dweight[i] += sum of dy over the positions where input == i (repeated indices add up; divided by the count if scale_grad_by_freq); dweight[padding_idx] = 0; the indices get no gradient (None). the padding row is not frozen, only its gradient is zero (an optimizer with weight decay still moves it); max_norm *modifies the weight* during the forward, outside autograd, so the table changes just by being read."
},
{
"name": "EmbeddingBag",
"family": "Normalization, dropout and embeddings",
"href": "EmbeddingBag.html",
"summary": "y[b] = reduce_{j in bag b} psw[j] * weight[input[j]] with reduce = sum, mean or max.",
"text": "y[b] = reduce_{j in bag b} psw[j] * weight[input[j]] with reduce = sum, mean or max. sum: dweight[input[j]] += psw[j] * dy[bag(j)]; mean: += dy[bag(j)] / count(bag); max: dweight[input[j*], d] += dy[b, d] at the arg-max j* of each bag and dim; dpsw[j] = <dy[bag(j)], weight[input[j]]>; padding entries get nothing; an empty bag outputs zeros; indices and offsets get None. it never materialises the (n, dim) gathered rows as an autograd node: the reduction is one fused kernel that also records, for 'max', which entry won; the mean divides by the number of *non-padding* entries; offsets[0] must be 0. With include_last_offset and a last offset short of the input's length (outside torch's documented CSR contract, refused here) torch's CPU kernels disagree with each other: in float64 the last bag runs to the end of the input; in float32 'sum' stops it at the last offset, 'mean' sums to there but divides by the count to the end (and its backward spreads the gradient to the end), 'max' runs to the end; and offsets=[0] on a non-empty input crashes the process in 'max' (SIGSEGV). In 'max', the running maximum starts at the bag's first entry and takes an entry only when it is larger: a NaN wins only when it comes first. Its CPU backward in torch 2.13 divides the group of the i-th distinct index by the count of sorted(input)[i] under scale_grad_by_freq (pytorch/pytorch#190063, fixed by #190264); this class follows the documented formula (each row's own count), which is also what Embedding and torch's CUDA kernel do."
},
{
"name": "CrossMapLRN2d",
"family": "Normalization, dropout and embeddings",
"href": "CrossMapLRN2d.html",
"summary": "y_c = x_c * (k + alpha / n * sum_{c' in S(c)} x_c'^2)^(-beta), n = size, where S(c) = {0} ∪ [max(1, c - p + 1), min(c + p - 1, C - 1)], p = int((n - 1) / 2 + 1)",
"text": "y_c = x_c * (k + alpha / n * sum_{c' in S(c)} x_c'^2)^(-beta), n = size, where S(c) = {0} ∪ [max(1, c - p + 1), min(c + p - 1, C - 1)], p = int((n - 1) / 2 + 1). torch's hand-written formula, *not* the derivative of this forward: dx_c = scale_c^(-beta) dy_c - (2 alpha beta / n) x_c sum_{c' in T(c)} dy_c' y_c' / scale_c' with T(c) = [c - q, c + n - 1 - q], q = int(n - (n - 1) / 2). two off-by-one slips from porting Lua's 1-based loops to 0-based Python: the forward's running window keeps Lua's if c > prePad test after c became 0-based, so its subtractions start one channel late and channel 0 is never removed: x_0^2 enters *every* channel's sum; and the backward's window T(c) is shifted (for size 3 it is [c-2, c] where the forward used [c-1, c+1]). So this is not LocalResponseNorm (channel 3 of 7 with x = (3, 0, 0, 1, 0, 0, 0), size 1: 0.261 here, 0.738 there), torch.autograd.gradcheck fails on it, and for size 1 torch's backward itself crashes (narrow past the end): npimpl raises a clear error there. npimpl reproduces both loops (running sums included, for the same rounding); the finite-difference oracle excludes these cases by name."
},
{
"name": "LocalResponseNorm",
"family": "Normalization, dropout and embeddings",
"href": "LocalResponseNorm.html",
"summary": "y_c = x_c / (k + alpha / n * sum_{c' in window(c)} x_c'^2)^beta, n = size.",
"text": "y_c = x_c / (k + alpha / n * sum_{c' in window(c)} x_c'^2)^beta, n = size. with s the window mean of x^2, B = k + alpha s and D = B^beta: dB = -dy x / D^2 * beta B^(beta-1); dx = dy / D + 2 x * (alpha / n) sum_{c: c' in window(c)} dB_c (the adjoint of the window sum). the window sum is an avg_pool2d / avg_pool3d over the channel dim of the squared input (padded with zeros, divided by size even at the ends), so alpha is divided by size (Caffe's convention; AlexNet's paper does not divide); an even size puts one more channel before c than after it. A 2-D input is refused, an empty one returned as it is."
},
{
"name": "AlphaDropout",
"family": "Normalization, dropout and embeddings",
"href": "AlphaDropout.html",
"summary": "y = a (x m + alpha' (1 - m)) + c per element in training (m ~ Bernoulli(1 - p)); y = x in eval.",
"text": "y = a (x m + alpha' (1 - m)) + c per element in training (m ~ Bernoulli(1 - p)); y = x in eval. dx = dy * a m (eval: dx = dy); with alpha' = 1.7581 (SELU's scale * alpha), a = ((1 - p) (1 + p alpha'^2))^(-1/2). a dropped unit is not 0 but the constant a alpha' (p - 1) (-0.779 for p = 0.5), and a kept one is a x + a alpha' p: the affine pair (a, b) is chosen so that a unit-variance, zero-mean input keeps both moments (Klambauer et al., 2017). It only makes sense after SELU; after ReLU the moments it preserves are the wrong ones. With p = 1 torch returns x * 0, not the constant."
},
{
"name": "FeatureAlphaDropout",
"family": "Normalization, dropout and embeddings",
"href": "FeatureAlphaDropout.html",
"summary": "AlphaDropout of whole channels: one draw per (dim 0, dim 1) pair, shared along every later dim.",
"text": "AlphaDropout of whole channels: one draw per (dim 0, dim 1) pair, shared along every later dim. dx = dy * a m, the mask broadcast over the trailing dims. it is feature_dropout with AlphaDropout's affine map: the channel mask is drawn for dims 0 and 1 whatever the rank (so a 2-D (N, C) input gets element-wise alpha dropout), and the rank check comes only after the eval / p = 0 / empty-input shortcuts, so a 1-D input passes in eval and fails in training."
},
{
"name": "GRUCell",
"family": "Recurrent layers",
"href": "GRUCell.html",
"summary": "h' = (1 - z) n + z h with r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).",
"text": "h' = (1 - z) n + z h with r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). r = sigma(x W_{ir}^top + b_{ir} + h W_{hr}^top + b_{hr}), quad z = sigma(x W_{iz}^top + b_{iz} + h W_{hz}^top + b_{hz}) n = tanhbig(x W_{in}^top + b_{in} + r odot (h W_{hn}^top + b_{hn})big), qquad h' = (1 - z) odot n + z odot h dn = dh'(1 - z)(1 - n²); dz = dh'(h - n) z(1 - z); dr = dn (W_hn h + b_hn) r(1 - r); d(W_hn h + b_hn) = dn * r; dh = dh' z + [dr dz dn*r] W_hh. backward(g_h) returns (g_input, g_hx). rows packed r, z, n; the reset gate multiplies (W_hn h + b_hn), *after* the hidden matmul and its bias (the cuDNN form, not the paper's W_hn (r * h)), which is why b_hn cannot be merged with b_in; two biases b_ih + b_hh."
},
{
"name": "LSTMCell",
"family": "Recurrent layers",
"href": "LSTMCell.html",
"summary": "c' = f c + i g, h' = o tanh(c'): gates i, f, o = σ(a_i, a_f, a_o), candidate g = tanh(a_g), pre-activations [a_i a_f a_g a_o] = x W_ih^T + b_ih + h W_hh^T + b_h",
"text": "c' = f c + i g, h' = o tanh(c'): gates i, f, o = σ(a_i, a_f, a_o), candidate g = tanh(a_g), pre-activations [a_i a_f a_g a_o] = x W_ih^T + b_ih + h W_hh^T + b_hh. a = x W_{ih}^top + b_{ih} + h W_{hh}^top + b_{hh} = [a_i\\; a_f\\; a_g\\; a_o] i = sigma(a_i), quad f = sigma(a_f), quad g = tanh(a_g), quad o = sigma(a_o) c' = f odot c + i odot g, qquad h' = o odot tanh(c') (i, f, g, o are the activated gates, a_* their pre-activations, d* = dL/d*) do = dh' tanh(c'); dc' += dh' o (1 - tanh²c'); di = dc' g; df = dc' c; dg = dc' i; dc = dc' f; da = [di i(1-i), df f(1-f), dg (1-g²), do o(1-o)] feeds both matmuls as in RNNCell. backward(g_h, g_c) returns (g_input, (g_h, g_c)). the four gates are packed in one (4H, ·) matrix in the row order i, f, g, o (input, forget, cell candidate, output); two biases b_ih + b_hh."
},
{
"name": "RNNCell",
"family": "Recurrent layers",
"href": "RNNCell.html",
"summary": "h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu.",
"text": "h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu. h' = phi(a), quad a = x W_{ih}^top + b_{ih} + h W_{hh}^top + b_{hh}, quad phi in \\{tanh, mathrm{relu}\\} dpre = dh' * act'(pre); dx = dpre W_ih; dh = dpre W_hh; dW_ih += dpre^T x; dW_hh += dpre^T h; db_ih += sum dpre; db_hh += sum dpre. backward(g_h) returns (g_input, g_hx). two biases b_ih and b_hh that always appear as a sum (redundant, kept for cuDNN compatibility); every weight is drawn from U(-1/sqrt(H), 1/sqrt(H))."
},
{
"name": "GRU",
"family": "Recurrent layers",
"href": "GRU.html",
"summary": "h_t = (1 - z_t) n_t + z_t h_{t-1}, n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)), r_t, z_t = σ(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z}",
"text": "h_t = (1 - z_t) n_t + z_t h_{t-1}, n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)), r_t, z_t = σ(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z}). h_t = (1 - z_t) odot n_t + z_t odot h_{t-1} quad text{(GRUCell at every step)} per step (see GRUCell): dn = dh(1-z)(1-n²), dz = dh(h-n)z(1-z), dr = dn(W_hn h + b_hn)r(1-r); the candidate's hidden part gets dn * r; dh_{t-1} = dh z + [dr dz dn*r] W_hh. backward(g_output, g_h_n=None) returns (g_input, g_h0). rows packed r, z, n in weight_ih (3H, ·) and weight_hh (3H, ·); the reset gate applies to (W_hn h + b_hn), after the hidden matmul and its bias (cuDNN's variant, not the paper's W_hn (r * h)); two biases b_ih + b_hh; a PackedSequence runs step t on its first batch_sizes[t] rows (sequences sorted longest first), so padding never enters a state; h_0 is permuted by sorted_indices on the way in and h_n back by unsorted_indices, and batch_first is ignored."
},
{
"name": "LSTM",
"family": "Recurrent layers",
"href": "LSTM.html",
"summary": "c_t = f c_{t-1} + i g, h_t = o tanh(c_t) [W_hr with proj_size]: gates i, f, o = σ(a_i, a_f, a_o), candidate g = tanh(a_g), [a_i a_f a_g a_o] = x_t W_ih^T + b_ih",
"text": "c_t = f c_{t-1} + i g, h_t = o tanh(c_t) [W_hr with proj_size]: gates i, f, o = σ(a_i, a_f, a_o), candidate g = tanh(a_g), [a_i a_f a_g a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh. [a_i\\; a_f\\; a_g\\; a_o] = x_t W_{ih}^top + b_{ih} + h_{t-1} W_{hh}^top + b_{hh} c_t = sigma(a_f) odot c_{t-1} + sigma(a_i) odot tanh(a_g), qquad h_t = sigma(a_o) odot tanh(c_t) \\;[\\,W_{hr}^top] per step (see LSTMCell; i, f, g, o the activated gates): dm = dh W_hr (or dh); dc += dm o (1 - tanh²c); di, df, dg, do from dc and dm; dc_{t-1} = dc f; dh_{t-1} = da W_hh (da: the pre-activation gradients); dW_hr += dh^T m. backward(g_output, (g_h_n, g_c_n)=None) returns (g_input, (g_h0, g_c0)). gate rows packed i, f, g, o (input, forget, cell, output) in weight_ih (4H, ·) and weight_hh (4H, H_out); two biases b_ih + b_hh; with proj_size, weight_hh takes the *projected* state (4H, proj_size) and h_n/c_n have different widths; a PackedSequence runs step t on its first batch_sizes[t] rows (sequences sorted longest first), so padding never enters a state; h_0 is permuted by sorted_indices on the way in and h_n back by unsorted_indices, and batch_first is ignored."
},
{
"name": "RNN",
"family": "Recurrent layers",
"href": "RNN.html",
"summary": "h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.",
"text": "h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu. h_t = phi(x_t W_{ih}^top + b_{ih} + h_{t-1} W_{hh}^top + b_{hh}) through time, last step first: dh_t = dout_t + dpre_{t+1} W_hh; dpre_t = dh_t act'(pre_t); dW_hh += Σ_t dpre_t^T h_{t-1}; dW_ih += Σ_t dpre_t^T x_t; db_ih, db_hh += Σ_t dpre_t; dx_t = dpre_t W_ih. backward(g_output, g_h_n=None) returns (g_input, g_h0). two biases b_ih + b_hh that only ever appear summed; parameters named weight_ih_l{k}[_reverse]; one fused kernel runs every layer and direction, and its dropout between layers uses torch's own RNG; a PackedSequence runs step t on its first batch_sizes[t] rows (sequences sorted longest first), so padding never enters a state; h_0 is permuted by sorted_indices on the way in and h_n back by unsorted_indices, and batch_first is ignored."
},
{
"name": "MultiheadAttention",
"family": "Attention and transformers",
"href": "MultiheadAttention.html",
"summary": "MHA = concat_h[softmax(Q W_q^h (K W_k^h)^T / sqrt(d) + mask) V W_v^h] W_o^T + b_o.",
"text": "MHA = concat_h[softmax(Q W_q^h (K W_k^h)^T / sqrt(d) + mask) V W_v^h] W_o^T + b_o. Q = x_q W_q^top + b_q, quad K = x_k W_k^top + b_k, quad V = x_v W_v^top + b_v quad (text{rows of in\\_proj\\_weight}) text{head}_h = mathrm{softmax}left(Q_h K_h^top / sqrt{d} + Mright) V_h, qquad y = [text{head}_1 dots text{head}_H]\\, W_o^top + b_o out_proj as Linear; per head the sdpa backward (dV = W^T dO, dS = P(dW - ΣP dW), dQ = dS K/sqrt(d), dK = dS^T Q/sqrt(d)); a gradient for the returned weights adds to dW (divided by H when they were averaged); dbias_k = Σ_N dk[S]; then each input projection as Linear. backward(g_out, g_weights=None) returns (g_query, g_key, g_value), three arrays even when query is key is value (the caller adds them: torch's autograd sums them into the one tensor). q, k, v projections are packed in one in_proj_weight (3E, E) (rows q, k, v) when kdim = vdim = E; mask polarity is True = *blocked* (scaled_dot_product_attention's boolean mask means the opposite) and a float mask is added; the returned weights are averaged over heads unless average_attn_weights=False, and are taken after dropout; with need_weights=True a fully masked query row is NaN (plain softmax), with need_weights=False torch routes through scaled_dot_product_attention and the row is 0 (then out_proj.bias); is_causal is only a hint that needs attn_mask, and it replaces attn_mask by the causal mask only when need_weights=False and no key_padding_mask (scaled_dot_product_attention's own, top-left aligned over every key slot: the bias_k and zero-attention keys appended at S, S + 1 are hidden from queries i < S). Init: in_proj_weight is xavier_uniform_ over the packed (3E, E) matrix (bound sqrt(6 / 4E), not each projection's sqrt(6 / 2E)); out_proj keeps Linear's default U(-1/sqrt(E), 1/sqrt(E)); in_proj_bias and out_proj.bias are zero; bias_k/bias_v xavier_normal_."
},
{
"name": "ScaledDotProductAttention",
"family": "Attention and transformers",
"href": "ScaledDotProductAttention.html",
"summary": "out = softmax(Q K^T * scale + mask) V, scale = 1/sqrt(E) unless given.",
"text": "out = softmax(Q K^T * scale + mask) V, scale = 1/sqrt(E) unless given. S = s\\, Q K^top + M, quad P = mathrm{softmax}_{text{rows}}(S), quad O = P V, quad s = 1/sqrt{E} dV = W^T dO; dW = dO V^T; dS = P (dW - Σ_j P dW); dQ = dS K scale; dK = dS^T Q scale, each summed over the batch dims its input was broadcast along. backward(g) returns (g_query, g_key, g_value). a *boolean* attn_mask here means True = may attend (MultiheadAttention's means True = blocked); a float mask is added to the scores; a query row with every key masked returns zeros (torch's _safe_softmax), not NaN; dropout draws from torch's RNG inside the fused kernel (so lockstep compares dropout_p = 0 only); on CPU, 4-D inputs with equal batch and head dims and no dropout go to a flash kernel (online softmax, backward with rowsum(dO * O)), anything else (broadcast batch dims included) to the math kernel."
},
{
"name": "TransformerEncoderLayer",
"family": "Attention and transformers",
"href": "TransformerEncoderLayer.html",
"summary": "x = norm1(x + SA(x)); x = norm2(x + FF(x)) (norm_first: x = x + SA(norm1(x)); x = x + FF(norm2(x))) with SA = dropout1(MHA(x, x, x)) and FF = dropout2(linear2(d",
"text": "x = norm1(x + SA(x)); x = norm2(x + FF(x)) (norm_first: x = x + SA(norm1(x)); x = x + FF(norm2(x))) with SA = dropout1(MHA(x, x, x)) and FF = dropout2(linear2(dropout(act(linear1(x))))). post-norm: g2 = norm2'(g); g1 = norm1'(g2 + FF'(g2)); dx = g1 + Σ SA'(g1) (the three gradients of MHA(x, x, x) are summed); pre-norm: g1 = g + norm2'(FF'(g)); dx = g1 + norm1'(Σ SA'(g1)). the self-attention is called with need_weights=False, so torch runs its scaled_dot_product_attention path (a fully masked row gives 0, not NaN); is_causal is a hint that still needs src_mask; the default is post-norm with dropout 0.1 and a 2048-wide feed-forward whatever d_model is; in eval mode without gradients (batched, batch_first, biases, relu/gelu, an even number of heads) torch replaces all of this by one fused kernel (_transformer_encoder_layer_fwd), and npimpl follows it under npimpl.no_grad(): there a fully masked query row is NaN (plain softmax), an nn.GELU(approximate='tanh') activation runs as the exact GELU (a 1e-4 difference), and is_causal is ignored (only the mask counts). why_not_sparsity_fast_path says after each forward why the kernel did not run ('' when it did)."
},
{
"name": "TransformerDecoderLayer",
"family": "Attention and transformers",
"href": "TransformerDecoderLayer.html",
"summary": "x = norm1(x + SA(x)); x = norm2(x + CA(x, m)); x = norm3(x + FF(x)) (norm_first: x = x + SA(norm1 x); x = x + CA(norm2 x, m); x = x + FF(norm3 x)) with SA = dro",
"text": "x = norm1(x + SA(x)); x = norm2(x + CA(x, m)); x = norm3(x + FF(x)) (norm_first: x = x + SA(norm1 x); x = x + CA(norm2 x, m); x = x + FF(norm3 x)) with SA = dropout1(MHA(x, x, x)), CA = dropout2(MHA(x, m, m)), FF = dropout3(linear2(dropout(act(linear1(x))))). post-norm: g3 = norm3'(g); g2 = norm2'(g3 + FF'(g3)); (gq, gk, gv) = CA'(g2); g1 = norm1'(g2 + gq); d tgt = g1 + Σ SA'(g1); d memory = gk + gv. pre-norm: g2 = g + norm3'(FF'(g)); g1 = g2 + norm2'(gq) with (gq, gk, gv) = CA'(g2); d tgt = g1 + norm1'(Σ SA'(g1)); d memory = gk + gv. backward(g) returns (grad_tgt, grad_memory). both attentions run with need_weights=False (the scaled_dot_product_attention path: a fully masked row gives 0, not NaN); tgt_is_causal / memory_is_causal are hints that still need the mask, and replace it by the causal mask only when there is no key padding mask; the memory feeds the keys and values of every decoder layer, so its gradient is the sum over layers of both; the decoder layer has no fused fast path (the encoder layer has one)."
},
{
"name": "TransformerEncoder",
"family": "Attention and transformers",
"href": "TransformerEncoder.html",
"summary": "x = layer_{n-1}(... layer_0(src)); out = norm(x) (norm optional).",
"text": "x = layer_{n-1}(... layer_0(src)); out = norm(x) (norm optional). the layers' backward in reverse order after the norm's: dx_k = layer_k'(dx_{k+1}). all copies start with the same weights; bool masks become float (-inf) masks before the layers see them; with is_causal=None a mask equal to the causal mask is detected and passed on as is_causal=True. The fast path: in eval mode under no_grad, with a key padding mask, no src mask, batch_first, an even number of heads, relu/gelu, post-norm and biases, torch packs the batch into a nested tensor (only the first (~mask).sum() tokens of each sequence, so with mask_check=False a mask that is not left-aligned silently drops valid tokens), runs the layers on it, skipping the padding (faster when much of the batch is padding), and pads back with **zeros**: padded output rows are 0, or after the final norm its bias, where the ordinary path returns numbers (a padded query still attends to the valid keys); valid rows agree. why_not_sparsity_fast_path says, after each forward, why the fast path was not taken ('' when it was)."
},
{
"name": "TransformerDecoder",
"family": "Attention and transformers",
"href": "TransformerDecoder.html",
"summary": "x = layer_{n-1}(... layer_0(tgt, memory), memory); out = norm(x) (norm optional).",
"text": "x = layer_{n-1}(... layer_0(tgt, memory), memory); out = norm(x) (norm optional). d tgt through the layers in reverse; d memory = Σ over layers of each layer's d memory (every layer attends to the same memory). backward(g) returns (grad_tgt, grad_memory). masks pass to every layer unchanged (bool stays bool, unlike the encoder); tgt_is_causal=None detects a causal tgt_mask; all copies start with the same weights."
},
{
"name": "Transformer",
"family": "Attention and transformers",
"href": "Transformer.html",
"summary": "out = decoder(tgt, encoder(src)) with a final LayerNorm in each stack.",
"text": "out = decoder(tgt, encoder(src)) with a final LayerNorm in each stack. (d tgt, d memory) = decoder'(g); d src = encoder'(d memory). backward(g) returns (grad_src, grad_tgt). after building both stacks every parameter with more than one dimension, custom encoder and decoder included, is re-drawn by xavier_uniform_ (so the layers are no longer copies); the encoder is built with enable_nested_tensor=True, so it warns when batch_first is False and may take the nested fast path in eval under no_grad."
},
{
"name": "DigitsMLP",
"family": "Models",
"href": "DigitsMLP.html",
"summary": "logits = W2 relu(W1 x + b1) + b2 on flattened 8x8 images.",
"text": "logits = W2 relu(W1 x + b1) + b2 on flattened 8x8 images. the Sequential chain in reverse: Linear, ReLU's dy * [y > 0], Linear. nothing beyond its layers: the model is torch.nn.Sequential with the same children, so the state_dict keys (0.weight … 2.bias) match."
},
{
"name": "DigitsCNN",
"family": "Models",
"href": "DigitsCNN.html",
"summary": "Two 3x3 conv / 2x2 max-pool / ReLU stages and a linear classifier.",
"text": "Two 3x3 conv / 2x2 max-pool / ReLU stages and a linear classifier. the Sequential chain in reverse; max-pool routes each gradient to the arg-max of its window, the convolutions correlate with the flipped kernel. nothing beyond its layers: the model is torch.nn.Sequential with the same children (1.weight is the first conv's (8, 1, 3, 3) kernel). Pooling before the ReLU computes the same function as after it (max and ReLU commute) on 4x fewer elements, and leaves no windows of tied zeros."
},
{
"name": "GPT",
"family": "Models",
"href": "GPT.html",
"summary": "logits = LayerNorm(blocks(wte[idx] + wpe[0..T-1])) wte^T — nanoGPT without dropout.",
"text": "logits = LayerNorm(blocks(wte[idx] + wpe[0..T-1])) wte^T — nanoGPT without dropout. dh = lm_head'(dlogits) (adds dlogits^T h into the tied weight), then ln_f, the blocks in reverse, and the embeddings: wte.grad[idx] += dx, wpe.grad[t] += sum_b dx[b, t]. The token embedding therefore receives two gradients, one as the head and one as the lookup table, summed. weight tying is one Parameter object referenced by two modules: autograd sums both uses' gradients, named_parameters() lists it once (as transformer.wte.weight), and state_dict() lists it under both keys."
},
{
"name": "GPTConfig",
"family": "Models",
"href": "GPTConfig.html",
"summary": "The hyper-parameters (nanoGPT's names); the defaults train 50 steps in seconds.",
"text": "The hyper-parameters (nanoGPT's names); the defaults train 50 steps in seconds."
},
{
"name": "Block",
"family": "Models",
"href": "Block.html",
"summary": "A pre-norm transformer block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)).",
"text": "A pre-norm transformer block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)). a residual passes its gradient through unchanged and adds the branch's: dx_mid = dy + ln_2'(mlp'(dy)), dx = dx_mid + ln_1'(attn'(dx_mid))."
},
{
"name": "CausalSelfAttention",
"family": "Models",
"href": "CausalSelfAttention.html",
"summary": "Multi-head causal self-attention: c_proj(concat_h softmax(mask(q_h k_h^T / sqrt(hs))) v_h).",
"text": "Multi-head causal self-attention: c_proj(concat_h softmax(mask(q_h k_h^T / sqrt(hs))) v_h). dv = att^T dy; datt = dy v^T; ds = att * (datt - rowsum(datt * att)) / sqrt(hs); dq = ds k; dk = ds^T q; then through c_attn (one Linear producing q, k, v). F.scaled_dot_product_attention(is_causal=True) fuses all of this (flash / memory-efficient kernels never store the T x T matrix and recompute it in backward); here att is stored. q, k and v come from one (3 n_embd, n_embd) Linear, split in that order."
},
{
"name": "MLP",
"family": "Models",
"href": "MLP.html",
"summary": "c_proj(gelu(c_fc(x))) with a 4x wider hidden layer.",
"text": "c_proj(gelu(c_fc(x))) with a 4x wider hidden layer. the three layers in reverse; GELU's dx = dy (Phi(x) + x phi(x))."
},
{
"name": "Seq2SeqTransformer",
"family": "Models",
"href": "Seq2SeqTransformer.html",
"summary": "logits = generator(Transformer(emb_src(src), emb_tgt(tgt))) with emb(t) = tok(t) * sqrt(d_model) + pos(position) (learned positions, one table per side) and mas",
"text": "logits = generator(Transformer(emb_src(src), emb_tgt(tgt))) with emb(t) = tok(t) * sqrt(d_model) + pos(position) (learned positions, one table per side) and masks built from the tokens: PAD keys ignored on both sides, causal targets. generator, then (d src_emb, d tgt_emb) = Transformer'(g); each token table gets sqrt(d_model) * d emb scattered to its rows, each position table the sum over the batch. backward(g) returns None (the inputs are token ids). in greedy decoding (eval, no_grad, batch_first, an even number of heads, a padding mask) torch's encoder takes its nested-tensor path, so the memory's padded rows are the final norm's bias, not numbers; the memory padding mask hides them from the decoder, so the decoded strings do not change (npimpl reproduces both)."
},
{
"name": "PackedLSTMClassifier",
"family": "Models",
"href": "PackedLSTMClassifier.html",
"summary": "logits = head(concat_d h_n[last layer, d]): an LSTM reads each sequence of a PackedSequence to its own end; its final state (both directions) is classified.",
"text": "logits = head(concat_d h_n[last layer, d]): an LSTM reads each sequence of a PackedSequence to its own end; its final state (both directions) is classified. head, then the LSTM's backward with no output gradient and dh_n only at the last layer's rows; returns the gradient of the packed data (R, input_size). h_n of a packed batch is taken at each sequence's true last step (not after the padding) and comes back in the caller's order although the kernel ran on the sequences sorted by length."
},
{
"name": "Optimizer",
"family": "Optimizers",
"href": "Optimizer.html",
"summary": "Holds param_groups (a list of dicts: params plus that group's options) and state (a dict keyed by Parameter with the per-parameter buffers).",
"text": "Holds param_groups (a list of dicts: params plus that group's options) and state (a dict keyed by Parameter with the per-parameter buffers). state_dict() replaces each Parameter by its position counted over all groups ({'state': {0: {...}}, 'param_groups': [{..., 'params': [0, 1]}]}); only parameters that have state appear under state. Loading casts every state array to its parameter's dtype except step, which keeps its own dtype; the group options (lr included) come from the saved dict."
},
{
"name": "SGD",
"family": "Optimizers",
"href": "SGD.html",
"summary": "p <- p - lr * (momentum buffer or gradient), in torch's update order.",
"text": "p <- p - lr * (momentum buffer or gradient), in torch's update order. b_1 = g_1, qquad b_t = mu\\, b_{t-1} + (1 - tau)\\, g_t, qquad g_t = nabla_p L + lambda p p leftarrow p - eta\\, b_t quad text{(nesterov: } p leftarrow p - eta\\,(g_t + mu b_t)text{)} the momentum buffer starts as a copy of the first gradient, not as zeros, and dampening is not applied to that first step; this velocity form (lr multiplies the buffer, not the gradient) differs from Sutskever's v = mu v - lr g as soon as lr changes. Weight decay is folded into the gradient before the buffer, so the buffer carries it. The layer never updates its own weights: the article's Linear does, which couples the layer to one optimizer and cannot express momentum."
},
{
"name": "Adam",
"family": "Optimizers",
"href": "Adam.html",
"summary": "p <- p - lr/(1 - beta1^t) * m / (sqrt(v)/sqrt(1 - beta2^t) + eps), in torch's order.",
"text": "p <- p - lr/(1 - beta1^t) * m / (sqrt(v)/sqrt(1 - beta2^t) + eps), in torch's order. m_t = beta_1 m_{t-1} + (1 - beta_1) g_t, qquad v_t = beta_2 v_{t-1} + (1 - beta_2) g_t^2 p leftarrow p - frac{eta}{1 - beta_1^t} cdot frac{m_t}{sqrt{v_t} / sqrt{1 - beta_2^t} + epsilon} step is a float32 tensor, not an int; the bias corrections are Python floats (beta ** step), and eps is added after dividing sqrt(v) by sqrt(1 - beta2^t) (the same maths as sqrt(v_hat) + eps, in this order to the last bit). The first moment uses lerp, which switches formula at weight 0.5. With L2 (Adam) the decay passes through the moments and is normalised away for weights with large gradients; AdamW shrinks p directly, before the moments."
},
{
"name": "AdamW",
"family": "Optimizers",
"href": "AdamW.html",
"summary": "p <- p (1 - lr wd), then the Adam step on the plain gradient (torch's AdamW).",
"text": "p <- p (1 - lr wd), then the Adam step on the plain gradient (torch's AdamW). p leftarrow p\\,(1 - etalambda), text{ then the Adam step on } g_t text{ (no } lambda p text{ in } m, v) text{paper (Loshchilov \\& Hutter): } p leftarrow p - eta_tbig(alpha\\, hat m_t / (sqrt{hat v_t} + epsilon) + lambda pbig) AdamW is literally Adam(..., decoupled_weight_decay=True) in torch (the flag is saved in every param group). The decay is lr * weight_decay: torch's lr plays the role of the paper's alpha * eta_t (base step size times schedule multiplier), and in the paper eta_t also scales lambda, so a scheduler decays the decay in both; the difference is the extra factor of the base step size alpha: the paper shrinks p by eta_t * lambda, torch by alpha * eta_t * lambda, so torch's weight_decay must be 1/alpha times the paper's lambda (0.01 in torch at lr 1e-3 is the paper's 1e-5)."
},
{
"name": "RMSprop",
"family": "Optimizers",
"href": "RMSprop.html",
"summary": "p <- p - lr * g / (sqrt(v - centered * a^2) + eps), v a running mean of g^2.",
"text": "p <- p - lr * g / (sqrt(v - centered * a^2) + eps), v a running mean of g^2. v_t = alpha v_{t-1} + (1 - alpha) g_t^2, qquad p leftarrow p - eta\\, frac{g_t}{sqrt{v_t} + epsilon} v starts at zero and is never bias-corrected, so the first steps are large (g / sqrt(1 - alpha) |g|, ten times lr for alpha = 0.99); eps sits outside the sqrt (Hinton's slides and TensorFlow put it inside); the momentum buffer starts at zero (unlike SGD's) and accumulates g / avg, so lr multiplies the buffer. step is kept but no formula uses it."
},
{
"name": "Adagrad",
"family": "Optimizers",
"href": "Adagrad.html",
"summary": "p <- p - lr_t * g / (sqrt(sum of g^2) + eps), lr_t = lr / (1 + (t - 1) lr_decay).",
"text": "p <- p - lr_t * g / (sqrt(sum of g^2) + eps), lr_t = lr / (1 + (t - 1) lr_decay). s_t = s_{t-1} + g_t^2, qquad p leftarrow p - frac{eta}{1 + (t - 1)\\,delta} cdot frac{g_t}{sqrt{s_t} + epsilon} the state is created in the constructor, for every parameter (a state_dict taken before the first step already lists each one with step 0 and sum = initial_accumulator_value), where every other optimizer creates it lazily at the first step with a gradient; the step counter is a float, and lr_decay uses t - 1, so step 1 runs at lr."
},
{
"name": "Adamax",
"family": "Optimizers",
"href": "Adamax.html",
"summary": "p <- p - lr / (1 - beta1^t) * m / u, u = max(beta2 u, |g| + eps).",
"text": "p <- p - lr / (1 - beta1^t) * m / u, u = max(beta2 u, |g| + eps). m_t = beta_1 m_{t-1} + (1 - beta_1) g_t, qquad u_t = max(beta_2 u_{t-1}, |g_t| + epsilon) p leftarrow p - frac{eta}{1 - beta_1^t} cdot frac{m_t}{u_t} eps is added to |g| before the max (so u >= eps and there is no division by zero), not to the denominator as in Adam; u needs no bias correction, only m does."
},
{
"name": "NAdam",
"family": "Optimizers",
"href": "NAdam.html",
"summary": "p <- p - lr [(1 - mu_t) g / (1 - P_t) + mu_{t+1} m / (1 - P_t mu_{t+1})] / denom.",
"text": "p <- p - lr [(1 - mu_t) g / (1 - P_t) + mu_{t+1} m / (1 - P_t mu_{t+1})] / denom. mu_t = beta_1left(1 - tfrac{1}{2}\\, 0.96^{t psi}right), qquad P_t = textstyleprod_{k le t} mu_k p leftarrow p - eta left(frac{(1 - mu_t)\\, g_t}{1 - P_t} + frac{mu_{t+1} m_t}{1 - P_t mu_{t+1}}right) Big/ left(sqrt{v_t / (1 - beta_2^t)} + epsilonright) mu_product is a 0-d tensor of the default dtype (float32) even for float64 parameters, so a float64 run carries float32 rounding in 1 - P_t; loading a state_dict casts it to the parameter's dtype, so a resumed float64 run is then (slightly) more precise than an uninterrupted one. Unlike Adam, v is divided by its bias correction before the sqrt, and the update is two separate addcdiv steps."
},
{
"name": "Adadelta",
"family": "Optimizers",
"href": "Adadelta.html",
"summary": "p <- p - lr * sqrt(u + eps) / sqrt(v + eps) * g, with running averages v of g² and u of the squared updates (Zeiler, 2012).",
"text": "p <- p - lr * sqrt(u + eps) / sqrt(v + eps) * g, with running averages v of g² and u of the squared updates (Zeiler, 2012). v_t = rho v_{t-1} + (1-rho) g_t^2, qquad Delta_t = frac{sqrt{u_{t-1} + epsilon}}{sqrt{v_t + epsilon}}\\, g_t, qquad u_t = rho u_{t-1} + (1-rho) Delta_t^2 p leftarrow p - eta\\, Delta_t the first update is sqrt(eps) / sqrt((1 - rho) g² + eps) · g: for |g| well above sqrt(eps / (1 - rho)) ≈ 3e-3 that is ≈ 3e-3 · sign(g) whatever the gradient's scale, below it ≈ g. Adadelta's \"unit correction\" starts from eps, so eps acts as the initial learning rate."
},
{
"name": "ASGD",
"family": "Optimizers",
"href": "ASGD.html",
"summary": "SGD with a decaying step eta and a running average ax of the iterates (Polyak & Juditsky 1992; Bottou 2012).",
"text": "SGD with a decaying step eta and a running average ax of the iterates (Polyak & Juditsky 1992; Bottou 2012). p leftarrow p\\,(1 - lambda eta_t) - eta_t g_t, qquad bar p leftarrow bar p + mu_t (p - bar p) eta_{t+1} = frac{eta_0}{(1 + lambda eta_0 t)^{alpha}}, qquad mu_{t+1} = frac{1}{max(1,\\, t - t_0)} eta and mu are stored as float32 tensors (torch's default scalar dtype) and read back with .item(), so even a float64 model steps with a float32-rounded learning rate: lr=0.1 becomes 0.10000000149011612."
},
{
"name": "RAdam",
"family": "Optimizers",
"href": "RAdam.html",
"summary": "Adam whose adaptive step is switched on only once the variance of its second moment is tractable, and then scaled by a rectification term r_t (Liu et al. 2020).",
"text": "Adam whose adaptive step is switched on only once the variance of its second moment is tractable, and then scaled by a rectification term r_t (Liu et al. 2020). rho_infty = frac{2}{1-beta_2} - 1, qquad rho_t = rho_infty - frac{2 t beta_2^t}{1 - beta_2^t}, qquad r_t = sqrt{frac{(rho_t - 4)(rho_t - 2)\\,rho_infty}{(rho_infty - 4)(rho_infty - 2)\\,rho_t}} p leftarrow p - eta\\, hat m_t cdot begin{cases} r_t sqrt{1-beta_2^t} / (sqrt{v_t} + epsilon) & rho_t > 5 \\\\ 1 & text{otherwise} end{cases} with the default beta2 = 0.999, rho_t first exceeds 5 at t = 6: the first five steps are plain momentum SGD with step lr · m_hat, which is why RAdam needs no warm-up; eps is added to sqrt(v) before the bias correction is applied (unlike Adam, which adds it after)."
},
{
"name": "Rprop",
"family": "Optimizers",
"href": "Rprop.html",
"summary": "p <- p - sign(g) * step_size, each element's step size grown by etaplus while the gradient keeps its sign and shrunk by etaminus when it flips (Riedmiller & Bra",
"text": "p <- p - sign(g) * step_size, each element's step size grown by etaplus while the gradient keeps its sign and shrunk by etaminus when it flips (Riedmiller & Braun 1993). s_t = begin{cases} min(eta^+ s_{t-1},\\, s_{max}) & g_t g_{t-1} > 0 \\\\ max(eta^- s_{t-1},\\, s_{min}) & g_t g_{t-1} < 0 \\\\ s_{t-1} & text{otherwise} end{cases} p leftarrow p - operatorname{sign}(g_t)\\, s_t qquad (g_t := 0 text{ after a sign flip}) only the gradient's sign is used, so Rprop is blind to the gradient's scale (it was made for full-batch training: with noisy mini-batch gradients the signs flip at random); and lr is only the step sizes' starting value, read once, at the first step — a scheduler that changes lr later has no effect."
},
{
"name": "Adafactor",
"family": "Optimizers",
"href": "Adafactor.html",
"summary": "Adam-like steps whose second moment of an (…, R, C) gradient is kept as a row vector (…, R, 1) and a column vector (…, 1, C) instead of R·C numbers (Shazeer & S",
"text": "Adam-like steps whose second moment of an (…, R, C) gradient is kept as a row vector (…, R, 1) and a column vector (…, 1, C) instead of R·C numbers (Shazeer & Stern 2018). R_t = hatbeta_t R_{t-1} + (1 - hatbeta_t) operatorname{mean}_{text{cols}} g_t^2, quad C_t = hatbeta_t C_{t-1} + (1 - hatbeta_t) operatorname{mean}_{text{rows}} g_t^2, quad hatbeta_t = 1 - t^{-0.8} hat v_t = frac{R_t C_t}{operatorname{mean}(R_t)}, qquad u_t = frac{g_t}{sqrt{hat v_t}} p leftarrow p - frac{max(epsilon_2, operatorname{RMS}(p))\\, min(eta, 1/sqrt t)}{max(1, operatorname{RMS}(u_t)/d)}\\, u_t torch's Adafactor is not the paper's nor Hugging Face's: it has no first moment at all, its second-moment decay 1 - t^-0.8 starts at 0 (the first step sees only g²), the step size is relative to the parameter's RMS (floored at eps2 = 1e-3, so a zero-initialised bias moves by at most 1e-3 · rho_t per step), and the factored estimate divides by the mean of the row factors, not of the whole matrix."
},
{
"name": "Muon",
"family": "Optimizers",
"href": "Muon.html",
"summary": "p <- p (1 - lr λ) - lr' · NS(momentum-averaged g): the update's singular values are pushed towards 1 by a Newton–Schulz iteration (Jordan et al. 2024), for 2-D ",
"text": "p <- p (1 - lr λ) - lr' · NS(momentum-averaged g): the update's singular values are pushed towards 1 by a Newton–Schulz iteration (Jordan et al. 2024), for 2-D parameters. b_t = mu b_{t-1} + (1-mu) g_t, qquad u_t = mu b_t + (1 - mu) g_t \\ (text{nesterov}) text{ or } b_t, qquad X leftarrow a X + left(b\\, XX^top + c\\, (XX^top)^2right) X \\ (5times) p leftarrow p\\,(1 - etalambda) - eta sqrt{max(1, A/B)}\\; operatorname{NS}(u_t) the orthogonalisation runs in **bfloat16** even for float64 parameters (an 8-bit significand: the update carries ~3 significant digits), and which kernel multiplies decides its last bits: ATen's own below m·k·n = 4096 (an accumulation order per operand layout), oneDNN's vdpbf16ps above; npimpl reproduces both bit for bit (npimpl/optim/_bfloat16.py, measured call by call in tests/test_muon_bf16.py). A float32 Muon is therefore discontinuous in its input: a last-bit difference in the momentum can move a bfloat16 rounding, and the update by 2^-8 relative. The iteration does not converge to U V^T — its coefficients trade convergence for speed: for Gaussian gradients 98% of the singular values land in 0.68–1.14, but a direction far weaker than ||G||_F stays weak (the slope at 0, a = 3.4445, amplifies it at most a^5 ≈ 490 times in 5 steps); weight_decay defaults to 0.1, not 0, and is applied to every parameter given; and there is no step counter in the state."
},
{
"name": "LBFGS",
"family": "Optimizers",
"href": "LBFGS.html",
"summary": "Limited-memory BFGS: each iteration steps along d = -H g, where H, the inverse Hessian estimate, is built from the last history_size pairs (s = Δp, y = Δg) by t",
"text": "Limited-memory BFGS: each iteration steps along d = -H g, where H, the inverse Hessian estimate, is built from the last history_size pairs (s = Δp, y = Δg) by the two-loop recursion; step(closure) runs up to max_iter iterations. d_k = -H_k g_k \\ text{(two-loop recursion over the last } m text{ pairs } s_i = p_{i+1} - p_i,\\ y_i = g_{i+1} - g_i), qquad H_k^{0} = frac{s^top y}{y^top y}\\, I p_{k+1} = p_k + t_k d_k qquad (t_k = eta, text{ or from a strong-Wolfe line search}) one step() is up to 20 iterations and 25 closure calls, not one update; the very first step is scaled down to min(1, 1/||g||_1) so that it cannot overshoot before any curvature is known; a pair (s, y) with y·s <= 1e-10 (non-convex curvature) is silently skipped, keeping H positive definite; and without a line search lr = 1 trusts the quadratic model fully."
},
{
"name": "SparseAdam",
"family": "Optimizers",
"href": "SparseAdam.html",
"summary": "Adam where only the rows present in a sparse gradient (Embedding(sparse=True)) have their moments and values updated; every other row is left exactly as it is.",
"text": "Adam where only the rows present in a sparse gradient (Embedding(sparse=True)) have their moments and values updated; every other row is left exactly as it is. m_R leftarrow beta_1 m_R + (1-beta_1) g_R, qquad v_R leftarrow beta_2 v_R + (1-beta_2) g_R^2 qquad (R: text{the rows present}) p_R leftarrow p_R - frac{eta sqrt{1-beta_2^t}}{1-beta_1^t} cdot frac{m_R}{sqrt{v_R} + epsilon} this is not Adam on the dense gradient with zeros elsewhere: a row absent from the batch keeps its moments frozen instead of decaying them, so a rare word's momentum survives until it is seen again — and the bias correction uses the global step t, not how often that row was updated. step is a plain int here, unlike every other optimizer's float32 tensor. A dense gradient is refused."
},
{
"name": "LRScheduler",
"family": "Optimizers",
"href": "LRScheduler.html",
"summary": "Base class: initial_lr is saved in every group, base_lrs is read from it, and the constructor takes one step (last_epoch -1 -> 0), as torch.",
"text": "Base class: initial_lr is saved in every group, base_lrs is read from it, and the constructor takes one step (last_epoch -1 -> 0), as torch. the constructor already calls step() once (so the lr at epoch 0 is the schedule's, e.g. start_factor * lr for LinearLR); the recursive formulas make the lr sequence depend on float rounding of every earlier step; state_dict() is the scheduler's __dict__ without the optimizer."
},
{
"name": "LambdaLR",
"family": "Optimizers",
"href": "LambdaLR.html",
"summary": "lr_t = base_lr * lr_lambda(t) (closed form; one lambda per group or one for all).",
"text": "lr_t = base_lr * lr_lambda(t) (closed form; one lambda per group or one for all). eta_t = eta_0 cdot lambda(t) state_dict() cannot save plain functions (they come back as None); only callable objects keep their __dict__."
},
{
"name": "MultiplicativeLR",
"family": "Optimizers",
"href": "MultiplicativeLR.html",
"summary": "lr_t = lr_{t-1} * lr_lambda(t) (recursive; one function per group or one for all).",
"text": "lr_t = lr_{t-1} * lr_lambda(t) (recursive; one function per group or one for all). eta_t = eta_{t-1} cdot lambda(t) unlike LambdaLR, the factor multiplies the *current* lr, so a constant lambda of 0.95 is exponential decay; at construction no factor is applied (the lr stays); as with LambdaLR, state_dict() saves callable objects' __dict__ and plain functions as None."
},
{
"name": "StepLR",
"family": "Optimizers",
"href": "StepLR.html",
"summary": "lr_t = lr_{t-1} * gamma when t is a positive multiple of step_size, else lr_{t-1}.",
"text": "lr_t = lr_{t-1} * gamma when t is a positive multiple of step_size, else lr_{t-1}. eta_t = eta_0\\, gamma^{lfloor t / text{step\\_size} rfloor}"
},
{
"name": "MultiStepLR",
"family": "Optimizers",
"href": "MultiStepLR.html",
"summary": "lr_t = lr_{t-1} * gamma^(times t appears in milestones), else lr_{t-1}.",
"text": "lr_t = lr_{t-1} * gamma^(times t appears in milestones), else lr_{t-1}. eta_t = eta_0\\, gamma^{\\#\\{m in text{milestones}:\\; m le t\\}}"
},
{
"name": "ConstantLR",
"family": "Optimizers",
"href": "ConstantLR.html",
"summary": "lr_t = base_lr * factor for t < total_iters, then base_lr.",
"text": "lr_t = base_lr * factor for t < total_iters, then base_lr. eta_t = eta_0 cdot begin{cases} text{factor} & t < T \\\\ 1 & t ge T end{cases} the recursive form divides by factor at t = total_iters to restore the lr, so factor = 0 is accepted at construction and gives 0 * (1 / 0): a division by zero at the switch (torch raises ZeroDivisionError there, so does npimpl)."
},
{
"name": "LinearLR",
"family": "Optimizers",
"href": "LinearLR.html",
"summary": "lr_t = base_lr * (start + (end - start) * min(t, total_iters) / total_iters), computed recursively as lr_{t-1} * (1 + (end - start) / (total_iters start + (t-1)",
"text": "lr_t = base_lr * (start + (end - start) * min(t, total_iters) / total_iters), computed recursively as lr_{t-1} * (1 + (end - start) / (total_iters start + (t-1)(end - start))). eta_t = eta_0 left(s + (e - s)frac{min(t, T)}{T}right)"
},
{
"name": "ExponentialLR",
"family": "Optimizers",
"href": "ExponentialLR.html",
"summary": "lr_t = lr_{t-1} * gamma (lr_0 = the optimizer's lr).",
"text": "lr_t = lr_{t-1} * gamma (lr_0 = the optimizer's lr). eta_t = eta_0\\, gamma^{t}"
},
{
"name": "PolynomialLR",
"family": "Optimizers",
"href": "PolynomialLR.html",
"summary": "lr_t = base_lr * (1 - min(t, total_iters) / total_iters) ** power.",
"text": "lr_t = base_lr * (1 - min(t, total_iters) / total_iters) ** power. eta_t = eta_0 left(1 - frac{min(t, T)}{T}right)^{p} computed recursively as lr_{t-1} * ((1 - t/T) / (1 - (t-1)/T)) ** power, which reaches exactly 0 at t = T (the numerator is 0) and stays there."
},
{
"name": "CosineAnnealingLR",
"family": "Optimizers",
"href": "CosineAnnealingLR.html",
"summary": "eta_t = eta_min + (base_lr - eta_min)(1 + cos(pi t / T_max)) / 2, computed recursively: lr_t = (1 + cos(pi t/T)) / (1 + cos(pi (t-1)/T)) * (lr_{t-1} - eta_min) ",
"text": "eta_t = eta_min + (base_lr - eta_min)(1 + cos(pi t / T_max)) / 2, computed recursively: lr_t = (1 + cos(pi t/T)) / (1 + cos(pi (t-1)/T)) * (lr_{t-1} - eta_min) + eta_min. eta_t = eta_{min} + frac{eta_0 - eta_{min}}{2}left(1 + cosfrac{pi t}{T_{max}}right) past T_max the recursion does not stop: the lr climbs back to base_lr at 2 T_max (SGDR without restarts), and at t - 1 - T_max = 0 mod 2 T_max, where the ratio would divide by zero, torch adds the closed-form increment instead."
},
{
"name": "OneCycleLR",
"family": "Optimizers",
"href": "OneCycleLR.html",
"summary": "1cycle: lr anneals initial_lr -> max_lr over pct_start of total_steps, then max_lr -> min_lr (closed form per step); momentum (or beta1) cycles the other way.",
"text": "1cycle: lr anneals initial_lr -> max_lr over pct_start of total_steps, then max_lr -> min_lr (closed form per step); momentum (or beta1) cycles the other way. eta = eta_{text{end}} + frac{eta_{text{start}} - eta_{text{end}}}{2}left(1 + cos frac{pi\\, (t - t_0)}{t_1 - t_0}right) quad text{per phase: } frac{eta_{max}}{text{div}} to eta_{max} to frac{eta_{max}}{text{div} cdot text{final\\_div}} the constructor overwrites the optimizer's lr (with max_lr/div_factor) and its momentum or betas[0] (with max_momentum), and stores initial_lr, max_lr, min_lr, max_momentum and base_momentum in every param group; stepping past total_steps raises."
},
{
"name": "CyclicLR",
"family": "Optimizers",
"href": "CyclicLR.html",
"summary": "The lr runs between base_lr and max_lr in triangles of step_size_up + step_size_down steps, each triangle's height scaled by scale_fn; momentum runs the other w",
"text": "The lr runs between base_lr and max_lr in triangles of step_size_up + step_size_down steps, each triangle's height scaled by scale_fn; momentum runs the other way. c = leftlfloor 1 + frac{t}{T} rightrfloor, quad x = 1 + frac{t}{T} - c, quad h = begin{cases} x / r & x le r \\\\ (x - 1)/(r - 1) & x > r end{cases} eta_t = eta_{text{base}} + (eta_{max} - eta_{text{base}})\\, h\\, sigma, qquad m_t = m_{max} - (m_{max} - m_{text{base}})\\, h\\, sigma the constructor overwrites every group's lr with base_lr and its momentum (or beta1) with max_momentum, and stores base_momentum/max_momentum in the groups; the schedule is closed-form (no recursion), so an lr set by hand is overwritten at the next step."
},
{
"name": "CosineAnnealingWarmRestarts",
"family": "Optimizers",
"href": "CosineAnnealingWarmRestarts.html",
"summary": "lr = eta_min + (base_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2, restarting (T_cur = 0) after T_i steps, each period T_mult times the last.",
"text": "lr = eta_min + (base_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2, restarting (T_cur = 0) after T_i steps, each period T_mult times the last. eta_t = eta_{min} + frac{eta_0 - eta_{min}}{2}left(1 + cosfrac{pi\\, T_{text{cur}}}{T_i}right), qquad T_i = T_0\\, T_{text{mult}}^{\\,i} step(epoch) accepts a *fractional* epoch (per-batch updates, epoch + i / n) and finds its period in closed form, n = floor(log_{T_mult}(epoch / T_0 (T_mult - 1) + 1)), while step() counts whole steps; last_epoch stores floor(epoch)."
},
{
"name": "ReduceLROnPlateau",
"family": "Optimizers",
"href": "ReduceLROnPlateau.html",
"summary": "After more than patience steps without improvement of the metric, every group's lr becomes max(lr * factor, min_lr); then cooldown steps pass before counting ag",
"text": "After more than patience steps without improvement of the metric, every group's lr becomes max(lr * factor, min_lr); then cooldown steps pass before counting again. eta leftarrow max(eta cdot text{factor},\\ eta_{min}) quad text{after more than } textit{patience} text{ steps with } m_t ge text{best}\\,(1 - text{threshold}) \\ (text{mode min, rel}) the constructor takes no step and stores no initial_lr (unlike every other scheduler); best starts at ±inf, so the first metric is always an improvement; a cut that would change the lr by less than eps is skipped silently."
},
{
"name": "SequentialLR",
"family": "Optimizers",
"href": "SequentialLR.html",
"summary": "Scheduler i runs from milestone i-1 to milestone i; at each milestone the next one starts from its own step 0 (its lr computed afresh from the groups' initial_l",
"text": "Scheduler i runs from milestone i-1 to milestone i; at each milestone the next one starts from its own step 0 (its lr computed afresh from the groups' initial_lr). eta_t = S_i(t - M_{i-1}) quad text{for } M_{i-1} le t < M_i qquad (M_0 = 0) constructing the children already moved the lr (each constructor takes a step); SequentialLR resets every group to initial_lr, undoes one step of every child and replays the first child's initial step; at a milestone the next child is stepped with epoch=0 (its closed form at 0), not by one step."
},
{
"name": "ChainedScheduler",
"family": "Optimizers",
"href": "ChainedScheduler.html",
"summary": "Every step, step all the schedulers in order: their (recursive) factors multiply.",
"text": "Every step, step all the schedulers in order: their (recursive) factors multiply. eta_t = S_K(cdots S_2(S_1(eta_{t-1}))) qquad text{(each child's step in turn, on the same lr)} it takes no step at construction (its children already did) and the order matters for closed-form children: one that *sets* the lr (CyclicLR, LambdaLR) overwrites what the earlier ones multiplied."
},
{
"name": "AveragedModel",
"family": "Optimizers",
"href": "AveragedModel.html",
"summary": "A copy of model whose parameters are the average of the model's parameters over the calls to :meth:update_parameters (SWA, Izmailov et al. 2018) or an exponenti",
"text": "A copy of model whose parameters are the average of the model's parameters over the calls to :meth:update_parameters (SWA, Izmailov et al. 2018) or an exponential moving average of them (EMA: multi_avg_fn=get_ema_multi_avg_fn(decay)). bartheta_n = bartheta_{n-1} + frac{theta_n - bartheta_{n-1}}{n + 1} \\ text{(SWA)}, qquad bartheta_n = beta\\, bartheta_{n-1} + (1 - beta)\\, theta_n \\ text{(EMA)} on the CPU the default is *not* the foreach lerp the docs describe but avg + (current - avg) / (n + 1) (torch's foreach kernels are for accelerators only), which rounds differently; get_swa_multi_avg_fn's weight 1 / (n + 1) is computed from the int64 n_averaged tensor, so it is a float32 even for float64 weights; with use_buffers an integer buffer (BatchNorm's num_batches_tracked) is averaged in float32 and truncated — and crashes get_swa_multi_avg_fn (an integer addcdiv; npimpl truncates instead). The averaged model's BatchNorm statistics are the last model's, not an average, so update_bn must recompute them for the averaged weights before evaluation."
},
{
"name": "SWALR",
"family": "Optimizers",
"href": "SWALR.html",
"summary": "Anneal each group's lr to swa_lr over anneal_epochs steps (cosine or linear), then hold it there.",
"text": "Anneal each group's lr to swa_lr over anneal_epochs steps (cosine or linear), then hold it there. eta_t = alpha_t\\, eta_{text{swa}} + (1 - alpha_t)\\, eta_0, qquad alpha_t = frac{1 - cos(pi min(1, t / T))}{2} \\ text{(cos)}, \\ min(1, t/T) \\ text{(linear)} each step first reconstructs the lr the annealing started from out of the current lr, (lr - alpha_prev swa_lr) / (1 - alpha_prev), then re-applies the new alpha: an lr changed by hand in between shifts the whole remaining curve."
}
];
