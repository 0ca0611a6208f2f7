"""PyTorch modules with Keras' semantics (TF 'same' padding with the extra pixel at the
bottom/right, transposed-convolution output sizes, fused activations, batch
normalization with optional gamma/beta), for the PyTorch script export
(core/export/pytorch_script_export.cpp); an op's module is named in its own file.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

# --- SegForge embeds the lines below in exported scripts ---


def activate(x, name, alpha=0.2):
    if name == "relu":
        return F.relu(x)
    if name == "leaky_relu":
        return F.leaky_relu(x, alpha)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "softmax":
        return torch.softmax(x, dim=1)  # channels
    if name == "tanh":
        return torch.tanh(x)
    return x  # linear

def tf_same_pad(size_hw, kernel, stride, dilation):
    """F.pad argument for Keras/TF 'same' padding: the odd pixel goes bottom/right."""
    pads = []
    for size, k, s, d in zip(size_hw, kernel, stride, dilation):
        effective = (k - 1) * d + 1
        out = -(-size // s)
        total = max((out - 1) * s + effective - size, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return (left, right, top, bottom)

class KerasConv2d(nn.Conv2d):
    """keras.layers.Conv2D: weight (out, in, kh, kw) = Keras kernel (kh, kw, in, out) permuted."""

    def __init__(self, cin, filters, kernel_size, strides, padding, dilation_rate, activation, use_bias):
        super().__init__(cin, filters, kernel_size, stride=strides, dilation=dilation_rate, bias=use_bias)
        self.keras_padding = padding
        self.activation = activation

    def forward(self, x):
        if self.keras_padding == "same":
            x = F.pad(x, tf_same_pad(x.shape[2:], self.kernel_size, self.stride, self.dilation))
        return activate(super().forward(x), self.activation)

class KerasConvTranspose2d(nn.ConvTranspose2d):
    """keras.layers.Conv2DTranspose: weight (in, out, kh, kw) = Keras kernel (kh, kw, out, in) permuted."""

    def __init__(self, cin, filters, kernel_size, strides, padding, dilation_rate, activation, use_bias):
        super().__init__(cin, filters, kernel_size, stride=strides, dilation=dilation_rate, bias=use_bias)
        self.keras_padding = padding
        self.activation = activation

    def forward(self, x):
        y = F.conv_transpose2d(x, self.weight, None, self.stride, 0, 0, 1, self.dilation)
        for axis in (2, 3):
            i = axis - 2
            size, s = x.shape[axis], self.stride[i]
            effective = (self.kernel_size[i] - 1) * self.dilation[i] + 1
            target = size * s if self.keras_padding == "same" else size * s + max(effective - s, 0)
            full = y.shape[axis]
            if full > target:
                y = y.narrow(axis, (full - target) // 2, target)
            elif full < target:
                pad = [0, 0, 0, 0]
                pad[(3 - axis) * 2 + 1] = target - full
                y = F.pad(y, pad)
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1)
        return activate(y, self.activation)

class KerasSeparableConv2d(nn.Module):
    """keras.layers.SeparableConv2D: a depthwise convolution (groups = in channels,
    depth_multiplier outputs each), a 1x1 convolution, the bias, the activation."""

    def __init__(self, cin, filters, kernel_size, strides, padding, dilation_rate, depth_multiplier,
                 activation, use_bias):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin * depth_multiplier, kernel_size, stride=strides,
                                   dilation=dilation_rate, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin * depth_multiplier, filters, 1, bias=use_bias)
        self.keras_padding = padding
        self.activation = activation

    def forward(self, x):
        if self.keras_padding == "same":
            d = self.depthwise
            x = F.pad(x, tf_same_pad(x.shape[2:], d.kernel_size, d.stride, d.dilation))
        return activate(self.pointwise(self.depthwise(x)), self.activation)

    def load_keras(self, get):
        """Keras depthwise (kh, kw, in, m) and pointwise (1, 1, in*m, out) kernels."""
        kh, kw, cin, m = get("depthwise_kernel").shape
        self.depthwise.weight.copy_(get("depthwise_kernel").reshape(kh, kw, cin * m).permute(2, 0, 1)[:, None])
        self.pointwise.weight.copy_(get("pointwise_kernel").permute(3, 2, 0, 1))
        if self.pointwise.bias is not None:
            self.pointwise.bias.copy_(get("bias"))

    def save_keras(self, put):
        """The reverse of load_keras: depthwise (kh, kw, in, m), pointwise (1, 1, in*m, out)."""
        cin = self.depthwise.in_channels
        kh, kw = self.depthwise.kernel_size
        m = self.depthwise.out_channels // cin
        put("depthwise_kernel", self.depthwise.weight[:, 0].permute(1, 2, 0).reshape(kh, kw, cin, m))
        put("pointwise_kernel", self.pointwise.weight.permute(2, 3, 1, 0))
        if self.pointwise.bias is not None:
            put("bias", self.pointwise.bias)

class KerasPool2d(nn.Module):
    """MaxPooling2D / AveragePooling2D; 'same' averages only over real pixels, as Keras does."""

    def __init__(self, kind, pool_size, strides, padding):
        super().__init__()
        self.kind, self.pool_size, self.padding = kind, pool_size, padding
        self.strides = tuple(p if s == 0 else s for p, s in zip(pool_size, strides))

    def forward(self, x):
        pad = (0, 0, 0, 0)
        if self.padding == "same":
            pad = tf_same_pad(x.shape[2:], self.pool_size, self.strides, (1, 1))
        if self.kind == "max":
            return F.max_pool2d(F.pad(x, pad, value=float("-inf")), self.pool_size, self.strides)
        ones = F.pad(torch.ones_like(x[:, :1]), pad)
        return F.avg_pool2d(F.pad(x, pad), self.pool_size, self.strides) / F.avg_pool2d(ones, self.pool_size, self.strides)

class KerasBatchNorm(nn.Module):
    """keras.layers.BatchNormalization over channels; gamma/beta only when scale/center."""

    def __init__(self, channels, momentum, epsilon, center, scale):
        super().__init__()
        self.momentum, self.epsilon = momentum, epsilon
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, 1.0 - self.momentum, self.epsilon)

class KerasGroupNorm(nn.Module):
    """keras.layers.GroupNormalization (torch.nn.GroupNorm with gamma and beta each optional)."""

    def __init__(self, groups, channels, epsilon, center, scale):
        super().__init__()
        self.groups, self.epsilon = groups, epsilon
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        return F.group_norm(x, self.groups, self.weight, self.bias, self.epsilon)

    def load_keras(self, get):
        with torch.no_grad():
            if self.weight is not None:
                self.weight.copy_(get("gamma"))
            if self.bias is not None:
                self.bias.copy_(get("beta"))

    def save_keras(self, put):
        if self.weight is not None:
            put("gamma", self.weight)
        if self.bias is not None:
            put("beta", self.bias)

class Lambda(nn.Module):
    """A parameter-free layer, kept as a module so that every layer has its name."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)

def concat_axis(axis):
    return {-1: 1, 3: 1, -3: 2, 1: 2, -2: 3, 2: 3}[axis]
