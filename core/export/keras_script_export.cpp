#include "export/python_script_export.hpp"

#include "export/export_graph.hpp"
#include "export/script_common.hpp"
#include "util/str_cat.hpp"

#include <map>

namespace segforge::core {

using namespace interop;

namespace {

using List = std::vector<std::int64_t>;

std::string pairs(const AttrMap& a, const char* k) {
    const List& q = std::get<List>(a.at(k));
    return strCat("((", q[0], ", ", q[1], "), (", q[2], ", ", q[3], "))");
}

/// The Keras layer constructor of one node ("" if none).
std::string layerCall(const ExportLayer& l) {
    const AttrMap& a = l.attrs;
    const std::string& op = l.node->op;
    const std::string name = "name=" + pythonString(l.node->name);
    if (op == "Conv2D" || op == "Conv2DTranspose")
        return strCat("layers.", op, "(", attrInt(a, "filters"), ", kernel_size=", pyInts(a, "kernel_size"),
                      ", strides=", pyInts(a, "strides"), ", padding=", pyText(a, "padding"),
                      ", dilation_rate=", pyInts(a, "dilation_rate"), ", activation=", pyText(a, "activation"),
                      ", use_bias=", pyBool(attrBool(a, "use_bias")), ", kernel_initializer=",
                      pyText(a, "kernel_initializer"), ", bias_initializer=", pyText(a, "bias_initializer"),
                      ", ", name, ")");
    if (op == "MaxPool2D" || op == "AvgPool2D") {
        const List& st = std::get<List>(a.at("strides"));
        return strCat("layers.", op == "MaxPool2D" ? "MaxPooling2D" : "AveragePooling2D",
                      "(pool_size=", pyInts(a, "pool_size"), ", strides=",
                      st[0] == 0 && st[1] == 0 ? std::string("None") : pyTuple(st),
                      ", padding=", pyText(a, "padding"), ", ", name, ")");
    }
    if (op == "UpSampling2D")
        return strCat("layers.UpSampling2D(size=", pyInts(a, "size"), ", interpolation=",
                      pyText(a, "interpolation"), ", ", name, ")");
    if (op == "Concatenate")
        return strCat("layers.Concatenate(axis=", attrInt(a, "axis"), ", ", name, ")");
    if (op == "Add" || op == "Multiply")
        return strCat("layers.", op, "(", name, ")");
    if (op == "BatchNormalization")
        return strCat("layers.BatchNormalization(axis=-1, momentum=", pyFloat(attrFloat(a, "momentum")),
                      ", epsilon=", pyFloat(attrFloat(a, "epsilon")), ", center=", pyBool(attrBool(a, "center")),
                      ", scale=", pyBool(attrBool(a, "scale")), ", ", name, ")");
    if (op == "Dropout")
        return strCat("layers.Dropout(", pyFloat(attrFloat(a, "rate")), ", seed=",
                      attrInt(a, "seed") == 0 ? std::string("None") : std::to_string(attrInt(a, "seed")),
                      ", ", name, ")");
    if (op == "Activation") {
        if (std::get<std::string>(a.at("activation")) == "leaky_relu")
            return strCat("layers.LeakyReLU(negative_slope=", pyFloat(attrFloat(a, "alpha")), ", ", name, ")");
        return strCat("layers.Activation(", pyText(a, "activation"), ", ", name, ")");
    }
    if (op == "Cropping2D")
        return strCat("layers.Cropping2D(cropping=", pairs(a, "cropping"), ", ", name, ")");
    if (op == "ZeroPadding2D")
        return strCat("layers.ZeroPadding2D(padding=", pairs(a, "padding"), ", ", name, ")");
    if (op == "Rescale")
        return strCat("layers.Rescaling(scale=", pyFloat(attrFloat(a, "scale")), ", offset=",
                      pyFloat(attrFloat(a, "offset")), ", ", name, ")");
    return "";
}

std::string inputCall(const ExportLayer& l) {
    const AttrMap& a = l.attrs;
    const bool dataset = l.node->op == "Dataset";
    const std::int64_t batch = dataset ? 0 : attrInt(a, "batch_size");
    return strCat("keras.Input(shape=", pyTuple({attrInt(a, "height"), attrInt(a, "width"), attrInt(a, "channels")}),
                  batch ? strCat(", batch_size=", batch) : std::string(), ", dtype=",
                  pyText(a, dataset ? "image_dtype" : "dtype"), ", name=", pythonString(l.node->name), ")");
}

/// Parameter names in Keras' get_weights() order.
std::vector<std::string> paramNames(const ExportLayer& l) {
    const AttrMap& a = l.attrs;
    const std::string& op = l.node->op;
    if (op == "Conv2D" || op == "Conv2DTranspose")
        return attrBool(a, "use_bias") ? std::vector<std::string>{"kernel", "bias"}
                                   : std::vector<std::string>{"kernel"};
    if (op == "BatchNormalization") {
        std::vector<std::string> p;
        if (attrBool(a, "scale"))
            p.push_back("gamma");
        if (attrBool(a, "center"))
            p.push_back("beta");
        p.push_back("moving_mean");
        p.push_back("moving_variance");
        return p;
    }
    return {};
}

std::string lossCode(const ExportGraph& g, std::vector<std::string>& warnings) {
    const AttrMap& a = g.lossAttrs;
    const std::string& op = g.lossOp;
    if (op == "BinaryCrossentropy")
        return strCat("keras.losses.BinaryCrossentropy(from_logits=", pyBool(attrBool(a, "from_logits")),
                      ", label_smoothing=", pyFloat(attrFloat(a, "label_smoothing")), ")");
    if (op == "CategoricalCrossentropy")
        return strCat("keras.losses.CategoricalCrossentropy(from_logits=", pyBool(attrBool(a, "from_logits")),
                      ", label_smoothing=", pyFloat(attrFloat(a, "label_smoothing")), ")");
    if (op == "SparseCategoricalCrossentropy")
        return strCat("keras.losses.SparseCategoricalCrossentropy(from_logits=", pyBool(attrBool(a, "from_logits")),
                      ", ignore_class=", attrInt(a, "ignore_class") < 0 ? std::string("None")
                                                                    : std::to_string(attrInt(a, "ignore_class")),
                      ")");
    if (op == "Focal")
        return strCat("keras.losses.BinaryFocalCrossentropy(apply_class_balancing=",
                      pyBool(attrBool(a, "apply_class_balancing")), ", alpha=", pyFloat(attrFloat(a, "alpha")),
                      ", gamma=", pyFloat(attrFloat(a, "gamma")), ", from_logits=", pyBool(attrBool(a, "from_logits")), ")");
    if (op == "Dice")
        return strCat("dice_loss(epsilon=", pyFloat(attrFloat(a, "epsilon")), ")");
    if (op == "BCEDice")
        return strCat("bce_dice_loss(epsilon=", pyFloat(attrFloat(a, "epsilon")), ", bce_weight=",
                      pyFloat(attrFloat(a, "bce_weight")), ", dice_weight=", pyFloat(attrFloat(a, "dice_weight")), ")");
    warnings.push_back("the project has no loss; the script trains with binary cross-entropy");
    return "keras.losses.BinaryCrossentropy()";
}

const char* kDiceKeras = R"(

def dice_loss(epsilon=1e-6):
    """1 − Dice over each sample's pixels and channels, averaged over the batch."""
    def loss(y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        axes = (1, 2, 3)
        inter = ops.sum(y_true * y_pred, axis=axes)
        total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
        return 1.0 - (2.0 * inter + epsilon) / (total + epsilon)
    return loss

def bce_dice_loss(epsilon=1e-6, bce_weight=1.0, dice_weight=1.0):
    bce = keras.losses.BinaryCrossentropy()
    dice = dice_loss(epsilon)
    def loss(y_true, y_pred):
        return bce_weight * bce(y_true, y_pred) + dice_weight * ops.mean(dice(y_true, y_pred))
    return loss
)";

} // namespace

ScriptExport exportKerasScript(const Project& project, const std::string& weights) {
    ScriptExport out;
    ExportGraph g = collectExportGraph(project.graph, out);
    if (!out.ok())
        return out;
    std::map<std::string, std::string> var; // layer name → Python variable
    std::string build = "\n\ndef build_model():\n    \"\"\"The network, layer for layer as in SegForge.\"\"\"\n";
    std::string inputs, layerNames, params, inputDtype = "\"float32\"";
    for (const ExportLayer& l : g.layers) {
        const std::string& name = l.node->name;
        const std::string v = "t_" + pythonIdentifier(name);
        var[name] = v;
        layerNames += "    " + pythonString(name) + ",\n";
        if (l.isInput()) {
            build += strCat("    ", v, " = ", inputCall(l), "\n");
            inputs += (inputs.empty() ? "" : ", ") + v;
            inputDtype = pyText(l.attrs, l.node->op == "Dataset" ? "image_dtype" : "dtype");
            continue;
        }
        const std::string call = layerCall(l);
        if (call.empty()) {
            out.errors.push_back(strCat(l.node->op, " '", name, "' has no Keras layer"));
            continue;
        }
        std::string args;
        for (const std::string& in : l.inputs)
            args += (args.empty() ? "" : ", ") + var[in];
        if (l.schema->variadicInputs)
            args = "[" + args + "]";
        build += strCat("    ", v, " = ", call, "(", args, ")\n");
        auto p = paramNames(l);
        if (!p.empty()) {
            std::string list;
            for (const auto& n : p)
                list += (list.empty() ? "" : ", ") + pythonString(n);
            params += strCat("    ", pythonString(name), ": [", list, "],\n");
        }
    }
    std::string outputs;
    for (const std::string& o : g.outputs)
        outputs += (outputs.empty() ? "" : ", ") + var[o];
    build += strCat("    return keras.Model(inputs=[", inputs, "], outputs=[", outputs, "], name=",
                    pythonString(pythonIdentifier(project.name)), ")\n");
    if (!out.ok())
        return out;

    const ScriptData data = scriptDataOf(project, g);
    std::string text = scriptHeader(project, "keras");
    text += "\n\n# Every layer, by its SegForge name.\nLAYER_NAMES = [\n" + layerNames + "]\n";
    text += "\n# Parameters of each layer in Keras' get_weights() order; SegForge stores them\n"
            "# as '<layer>/<param>' in the same layouts as Keras.\nPARAMETERS = {\n" + params + "}\n";
    text += "INPUT_DTYPE = " + inputDtype + "\n";
    text += build;
    text += R"(

def load_weights(model, path):
    """Copies SegForge weights into the model, layer by layer."""
    tensors = read_safetensors(path)
    for layer_name, names in PARAMETERS.items():
        layer = model.get_layer(layer_name)
        layer.set_weights([tensors[f"{layer_name}/{name}"] for name in names])
)";
    text += kDiceKeras;
    text += scriptDataReader(data);
    const std::string body = strCat(R"(    keras.utils.set_random_seed(args.seed)
    model = build_model()
    if args.weights:
        load_weights(model, args.weights)
    model.compile(optimizer=)", optimizerCall(project.training, "keras.optimizers.", "learning_rate=args.lr"), R"(, loss=)", lossCode(g, out.warnings), R"()
    model.summary()
    pairs = load_pairs(args.data)
    for epoch in range(args.epochs):
        losses = []
        for images, targets in batches(pairs, BATCH_SIZE, seed=args.seed + epoch):
            losses.append(float(model.train_on_batch(images.astype(INPUT_DTYPE), targets)))
        print(f"epoch {epoch + 1}/{args.epochs}: loss {np.mean(losses):.4f}")
    model.save()", pythonString(pythonIdentifier(project.name) + ".keras"), R"()
)");
    text += scriptMain(project, weights, body);
    out.text = std::move(text);
    return out;
}

} // namespace segforge::core
