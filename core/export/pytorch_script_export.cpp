#include "export/python_script_export.hpp"

#include "export/export_graph.hpp"
#include "export/script_common.hpp"
#include "util/str_cat.hpp"

#include <map>

namespace segforge::core {

using namespace interop;

namespace {

/// Helpers that give PyTorch Keras' semantics (TF 'same' padding with the extra
/// pixel at the bottom/right, transposed-convolution output sizes, fused
/// activations, batch normalization with optional gamma/beta).
const char* kModules = R"(

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

class Lambda(nn.Module):
    """A parameter-free layer, kept as a module so that every layer has its name."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)

def concat_axis(axis):
    return {-1: 1, 3: 1, -3: 2, 1: 2, -2: 3, 2: 3}[axis]
)";

const char* kLosses = R"(

def make_loss(kind, **a):
    """The SegForge loss on NCHW tensors; predictions are probabilities unless from_logits."""
    eps = 1e-7

    def dice(pred, target, epsilon):
        inter = (pred * target).sum(dim=(1, 2, 3))
        total = pred.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
        return (1.0 - (2.0 * inter + epsilon) / (total + epsilon)).mean()

    def loss(pred, target):
        if kind == "BinaryCrossentropy":
            t = target * (1.0 - a["label_smoothing"]) + 0.5 * a["label_smoothing"]
            if a["from_logits"]:
                return F.binary_cross_entropy_with_logits(pred, t)
            return F.binary_cross_entropy(pred.clamp(eps, 1 - eps), t)
        if kind == "CategoricalCrossentropy":
            t = target * (1.0 - a["label_smoothing"]) + a["label_smoothing"] / pred.shape[1]
            logp = torch.log_softmax(pred, dim=1) if a["from_logits"] else torch.log(pred.clamp(eps, 1.0))
            return -(t * logp).sum(dim=1).mean()
        if kind == "SparseCategoricalCrossentropy":
            logp = torch.log_softmax(pred, dim=1) if a["from_logits"] else torch.log(pred.clamp(eps, 1.0))
            return F.nll_loss(logp, target[:, 0].long(), ignore_index=a["ignore_class"])
        if kind == "Dice":
            return dice(pred, target, a["epsilon"])
        if kind == "BCEDice":
            bce = F.binary_cross_entropy(pred.clamp(eps, 1 - eps), target)
            return a["bce_weight"] * bce + a["dice_weight"] * dice(pred, target, a["epsilon"])
        if kind == "Focal":
            p = torch.sigmoid(pred) if a["from_logits"] else pred.clamp(eps, 1 - eps)
            pt = target * p + (1 - target) * (1 - p)
            w = (1 - pt) ** a["gamma"]
            if a["apply_class_balancing"]:
                w = w * (target * a["alpha"] + (1 - target) * (1 - a["alpha"]))
            return -(w * torch.log(pt.clamp(eps, 1.0))).mean()
        raise ValueError(kind)
    return loss
)";

std::string lossArgs(const ExportGraph& g) {
    std::string s = pythonString(g.lossOp.empty() ? "BinaryCrossentropy" : g.lossOp);
    if (g.lossOp.empty())
        return s + ", from_logits=False, label_smoothing=0.0";
    for (const auto& [key, value] : g.lossAttrs) {
        s += ", " + key + "=";
        if (auto* b = std::get_if<bool>(&value))
            s += pyBool(*b);
        else if (auto* d = std::get_if<double>(&value))
            s += pyFloat(*d);
        else if (auto* i = std::get_if<std::int64_t>(&value))
            s += key == "ignore_class" && *i < 0 ? std::string("-100") : std::to_string(*i);
        else
            s += pythonString(attrToString(value));
    }
    return s;
}

} // namespace

ScriptExport exportPyTorchScript(const Project& project, const std::string& weights) {
    ScriptExport out;
    ExportGraph g = collectExportGraph(project.graph, out);
    if (!out.ok())
        return out;
    std::map<std::string, const ExportLayer*> byName;
    for (const ExportLayer& l : g.layers)
        byName[l.node->name] = &l;
    std::string init, forward, inputs, layerNames;
    for (const ExportLayer& l : g.layers) {
        const std::string& name = l.node->name;
        const std::string v = "t_" + pythonIdentifier(name);
        layerNames += "    " + pythonString(name) + ",\n";
        if (l.isInput()) {
            inputs += (inputs.empty() ? "" : ", ") + v;
            continue;
        }
        // The op's module (ops/export_mapping.hpp), from the types its producers export.
        const PyTorchMapping& mapping = l.schema->pytorch;
        InteropView view{*l.node, l.attrs, l.schema->inputNames(*l.node), {}, l.output};
        for (const std::string& in : l.inputs) {
            const ExportLayer* p = byName[in];
            view.inputs.push_back(p ? p->output : std::nullopt);
        }
        if (mapping.needsInputChannels && view.inputChannels(0) == 0) {
            out.errors.push_back(strCat("the input type of '", name, "' is unknown; fix the errors "
                                        "`segforge-cli check` reports, then export"));
            continue;
        }
        if (!mapping.module) {
            out.errors.push_back(strCat(l.node->op, " '", name, "' has no PyTorch equivalent here (",
                                        mapping.notExportable, ")"));
            continue;
        }
        const std::string module = mapping.module(view);
        init += strCat("        self.layers[", pythonString(name), "] = ", module, "\n");
        std::string args;
        for (const std::string& in : l.inputs)
            args += (args.empty() ? "" : ", ") + std::string("t_") + pythonIdentifier(in);
        forward += strCat("        ", v, " = self.layers[", pythonString(name), "](", args, ")\n");
    }
    if (!out.ok())
        return out;
    std::string outputs;
    for (const std::string& o : g.outputs)
        outputs += (outputs.empty() ? "" : ", ") + std::string("t_") + pythonIdentifier(o);

    const ScriptData data = scriptDataOf(project, g);
    std::string text = scriptHeader(project, "torch");
    text += "\n\n# Every layer, by its SegForge name.\nLAYER_NAMES = [\n" + layerNames + "]\n";
    text += kModules;
    text += strCat(R"(

class Net(nn.Module):
    """The network, layer for layer as in SegForge; tensors are NCHW inside."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict()
)", init, R"(
    def forward(self, )", inputs, R"():
)", forward, "        return ", outputs, "\n");
    text += R"(

def load_weights(model, path):
    """Copies SegForge weights ('<layer>/<param>', Keras layouts) into the model."""
    tensors = read_safetensors(path)
    get = lambda layer, param: torch.from_numpy(tensors[f"{layer}/{param}"])
    with torch.no_grad():
        for name, module in model.layers.items():
            if isinstance(module, (KerasConv2d, KerasConvTranspose2d)):
                module.weight.copy_(get(name, "kernel").permute(3, 2, 0, 1))
                if module.bias is not None:
                    module.bias.copy_(get(name, "bias"))
            elif isinstance(module, KerasBatchNorm):
                if module.weight is not None:
                    module.weight.copy_(get(name, "gamma"))
                if module.bias is not None:
                    module.bias.copy_(get(name, "beta"))
                module.running_mean.copy_(get(name, "moving_mean"))
                module.running_var.copy_(get(name, "moving_variance"))
)";
    text += kLosses;
    text += scriptDataReader(data);
    if (g.lossOp.empty())
        out.warnings.push_back("the project has no loss; the script trains with binary cross-entropy");
    const std::string body = strCat(R"(    torch.manual_seed(args.seed)
    model = Net()
    if args.weights:
        load_weights(model, args.weights)
    loss_fn = make_loss()", lossArgs(g), R"()
    optimizer = )", optimizerCall(project.training, "torch.optim.", "model.parameters(), lr=args.lr"), R"(
    pairs = load_pairs(args.data)
    to_nchw = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float()
    for epoch in range(args.epochs):
        model.train()
        losses = []
        for images, targets in batches(pairs, BATCH_SIZE, seed=args.seed + epoch):
            optimizer.zero_grad()
            loss = loss_fn(model(to_nchw(images)), to_nchw(targets))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        print(f"epoch {epoch + 1}/{args.epochs}: loss {np.mean(losses):.4f}")
    torch.save(model.state_dict(), )", pythonString(pythonIdentifier(project.name) + ".pt"), R"()
)");
    text += scriptMain(project, weights, body);
    out.text = std::move(text);
    return out;
}

} // namespace segforge::core
