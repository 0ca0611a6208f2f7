#include "keras/keras_json_export.hpp"

#include "export/export_graph.hpp"
#include "util/str_cat.hpp"

#include <map>

namespace segforge::core {

using nlohmann::ordered_json;
using namespace interop;

namespace {

using List = std::vector<std::int64_t>;

ordered_json shapeJson(const std::optional<TensorType>& type) {
    if (!type)
        return nullptr;
    ordered_json dims = ordered_json::array();
    for (std::size_t i = 0; i < type->shape.dims().size(); ++i) {
        if (i == 0)
            dims.push_back(nullptr);
        else
            dims.push_back(type->shape.dims()[i]);
    }
    return dims;
}

ordered_json initializer(const std::string& name) {
    ordered_json config = ordered_json::object();
    if (name == "glorot_uniform" || name == "he_normal")
        config["seed"] = nullptr;
    return {{"module", "keras.initializers"}, {"class_name", kerasInitializerClass(name)},
            {"config", config}, {"registered_name", nullptr}};
}

ordered_json pairsOf(const List& quad) {
    return ordered_json::array({ordered_json::array({quad[0], quad[1]}),
                                ordered_json::array({quad[2], quad[3]})});
}

struct Mapped {
    std::string className;
    ordered_json config;
};

Mapped convLayer(const ExportLayer& l, bool transpose) {
    const AttrMap& a = l.attrs;
    ordered_json c;
    c["filters"] = attrInt(a, "filters");
    c["kernel_size"] = attrInts(a, "kernel_size");
    c["strides"] = attrInts(a, "strides");
    c["padding"] = attrText(a, "padding");
    c["data_format"] = "channels_last";
    c["dilation_rate"] = attrInts(a, "dilation_rate");
    if (transpose)
        c["output_padding"] = nullptr;
    else
        c["groups"] = 1;
    c["activation"] = attrText(a, "activation");
    c["use_bias"] = attrBool(a, "use_bias");
    c["kernel_initializer"] = initializer(attrText(a, "kernel_initializer"));
    c["bias_initializer"] = initializer(attrText(a, "bias_initializer"));
    for (const char* k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                          "kernel_constraint", "bias_constraint"})
        c[k] = nullptr;
    return {transpose ? "Conv2DTranspose" : "Conv2D", c};
}

Mapped poolLayer(const ExportLayer& l, const char* cls) {
    const AttrMap& a = l.attrs;
    List strides = attrInts(a, "strides");
    for (std::size_t i = 0; i < 2; ++i) {
        if (strides[i] == 0) // 0 is Keras' None: the pool size
            strides[i] = attrInts(a, "pool_size")[i];
    }
    return {cls, {{"pool_size", attrInts(a, "pool_size")}, {"padding", attrText(a, "padding")},
                  {"strides", strides}, {"data_format", "channels_last"}}};
}

/// Layer class and config (without name/trainable/dtype) of one node.
std::optional<Mapped> mapLayer(const ExportLayer& l) {
    const AttrMap& a = l.attrs;
    const std::string& op = l.node->op;
    if (op == "Conv2D" || op == "Conv2DTranspose")
        return convLayer(l, op == "Conv2DTranspose");
    if (op == "MaxPool2D")
        return poolLayer(l, "MaxPooling2D");
    if (op == "AvgPool2D")
        return poolLayer(l, "AveragePooling2D");
    if (op == "UpSampling2D")
        return Mapped{op, {{"size", attrInts(a, "size")}, {"data_format", "channels_last"},
                           {"interpolation", attrText(a, "interpolation")}}};
    if (op == "Concatenate")
        return Mapped{op, {{"axis", attrInt(a, "axis")}}};
    if (op == "Add" || op == "Multiply")
        return Mapped{op, ordered_json::object()};
    if (op == "BatchNormalization") {
        ordered_json c{{"axis", -1}, {"momentum", attrFloat(a, "momentum")}, {"epsilon", attrFloat(a, "epsilon")},
                       {"center", attrBool(a, "center")}, {"scale", attrBool(a, "scale")}};
        c["beta_initializer"] = initializer("zeros");
        c["gamma_initializer"] = initializer("ones");
        c["moving_mean_initializer"] = initializer("zeros");
        c["moving_variance_initializer"] = initializer("ones");
        for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
            c[k] = nullptr;
        c["synchronized"] = false;
        return Mapped{op, c};
    }
    if (op == "Dropout") {
        const std::int64_t seed = attrInt(a, "seed");
        return Mapped{op, {{"rate", attrFloat(a, "rate")},
                           {"seed", seed == 0 ? ordered_json(nullptr) : ordered_json(seed)},
                           {"noise_shape", nullptr}}};
    }
    if (op == "Activation") {
        if (attrText(a, "activation") == "leaky_relu")
            return Mapped{"LeakyReLU", {{"negative_slope", attrFloat(a, "alpha")}}};
        return Mapped{op, {{"activation", attrText(a, "activation")}}};
    }
    if (op == "Cropping2D")
        return Mapped{op, {{"cropping", pairsOf(attrInts(a, "cropping"))}, {"data_format", "channels_last"}}};
    if (op == "ZeroPadding2D")
        return Mapped{op, {{"padding", pairsOf(attrInts(a, "padding"))}, {"data_format", "channels_last"}}};
    if (op == "Rescale")
        return Mapped{"Rescaling", {{"scale", attrFloat(a, "scale")}, {"offset", attrFloat(a, "offset")}}};
    return std::nullopt;
}

ordered_json kerasTensor(const std::string& producer, const std::map<std::string, const ExportLayer*>& byName) {
    auto it = byName.find(producer);
    const ExportLayer* p = it == byName.end() ? nullptr : it->second;
    std::string dtype = "float32";
    if (p && p->output)
        dtype = std::string(dtypeName(p->output->dtype));
    return {{"class_name", "__keras_tensor__"},
            {"config", {{"shape", p ? shapeJson(p->output) : ordered_json(nullptr)},
                        {"dtype", dtype},
                        {"keras_history", ordered_json::array({producer, 0, 0})}}}};
}

ordered_json inputLayer(const ExportLayer& l) {
    const AttrMap& a = l.attrs;
    const bool dataset = l.node->op == "Dataset";
    const std::int64_t batch = dataset ? 0 : attrInt(a, "batch_size");
    const std::string dtype = dataset ? attrText(a, "image_dtype") : attrText(a, "dtype");
    ordered_json shape = ordered_json::array({batch == 0 ? ordered_json(nullptr) : ordered_json(batch),
                                              attrInt(a, "height"), attrInt(a, "width"), attrInt(a, "channels")});
    return {{"module", "keras.layers"},
            {"class_name", "InputLayer"},
            {"config", {{"batch_shape", shape}, {"dtype", dtype}, {"sparse", false},
                        {"name", l.node->name}}},
            {"registered_name", nullptr},
            {"name", l.node->name},
            {"inbound_nodes", ordered_json::array()}};
}

} // namespace

KerasJsonExport exportKerasJson(const Graph& graph, const std::string& modelName) {
    KerasJsonExport out;
    ExportGraph eg = collectExportGraph(graph, out);
    if (!out.errors.empty())
        return out;
    std::map<std::string, const ExportLayer*> byName;
    for (const ExportLayer& l : eg.layers)
        byName[l.node->name] = &l;

    ordered_json layers = ordered_json::array();
    ordered_json inputs = ordered_json::array();
    for (const ExportLayer& l : eg.layers) {
        if (l.isInput()) {
            layers.push_back(inputLayer(l));
            inputs.push_back(ordered_json::array({l.node->name, 0, 0}));
            if (l.node->op == "Dataset")
                out.warnings.push_back(strCat("Dataset '", l.node->name, "' is exported as an InputLayer "
                                              "for its images; the data pipeline is not part of the model"));
            continue;
        }
        auto mapped = mapLayer(l);
        if (!mapped) {
            out.errors.push_back(strCat(l.node->op, " '", l.node->name, "' has no Keras layer"));
            continue;
        }
        ordered_json config{{"name", l.node->name}, {"trainable", true}, {"dtype", "float32"}};
        for (auto it = mapped->config.begin(); it != mapped->config.end(); ++it)
            config[it.key()] = it.value();
        ordered_json args = ordered_json::array();
        if (l.schema->variadicInputs) {
            ordered_json tensors = ordered_json::array();
            for (const std::string& in : l.inputs)
                tensors.push_back(kerasTensor(in, byName));
            args.push_back(tensors);
        } else {
            for (const std::string& in : l.inputs)
                args.push_back(kerasTensor(in, byName));
        }
        ordered_json layer{{"module", "keras.layers"},
                           {"class_name", mapped->className},
                           {"config", config},
                           {"registered_name", nullptr},
                           {"name", l.node->name}};
        layer["inbound_nodes"] = ordered_json::array({{{"args", args}, {"kwargs", ordered_json::object()}}});
        layers.push_back(std::move(layer));
    }
    ordered_json outputs = ordered_json::array();
    for (const std::string& o : eg.outputs)
        outputs.push_back(ordered_json::array({o, 0, 0}));
    out.model = {{"module", "keras.src.models.functional"},
                 {"class_name", "Functional"},
                 {"config", {{"name", modelName}, {"trainable", true}, {"layers", layers},
                             {"input_layers", inputs}, {"output_layers", outputs}}},
                 {"registered_name", "Functional"}};
    return out;
}

} // namespace segforge::core
