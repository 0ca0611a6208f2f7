#include "keras/keras_layer_map.hpp"

#include "ops/op_registry.hpp"
#include "util/bounded_json.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cctype>

namespace segforge::core::interop {

using nlohmann::json;

namespace {

const std::vector<std::string> kSupportedActivations{"linear", "relu",    "leaky_relu",
                                                     "sigmoid", "softmax", "tanh"};

/// Keras 3's activations.leaky_relu slope (the LeakyReLU layer defaults to 0.3).
constexpr double kKerasLeakySlope = 0.2;

bool supportedActivation(const std::string& name) {
    return std::find(kSupportedActivations.begin(), kSupportedActivations.end(), name) !=
           kSupportedActivations.end();
}

/// The activation of a layer: null → linear, a name, or a serialized function.
std::string activationOf(KerasConfig& cfg) {
    const json* v = cfg.raw("activation");
    if (!v || v->is_null())
        return "linear";
    if (v->is_string())
        return v->get<std::string>();
    if (v->is_object() && v->contains("class_name") && (*v)["class_name"].is_string()) {
        // Keras 3 may write {"class_name": "function", "config": "relu"} for built-ins.
        auto config = v->find("config");
        if (config != v->end() && config->is_string())
            return config->get<std::string>();
        return (*v)["class_name"].get<std::string>();
    }
    throw KerasFormatError(cfg.pathOf("activation"),
                           "expected an activation name, got " + jsonTypeName(*v));
}

/// glorot_uniform / he_normal / zeros / ones from a Keras initializer; "" if none fits.
std::string initializerOf(const json& v) {
    std::string cls;
    const json* config = nullptr;
    if (v.is_string()) {
        cls = v.get<std::string>();
    } else if (v.is_object() && v.contains("class_name") && v["class_name"].is_string()) {
        cls = v["class_name"].get<std::string>();
        if (auto it = v.find("config"); it != v.end() && it->is_object())
            config = &*it;
    }
    std::string lower;
    for (char c : cls) {
        if (c != '_')
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower == "glorotuniform")
        return "glorot_uniform";
    if (lower == "henormal")
        return "he_normal";
    if (lower == "zeros" || lower == "zero")
        return "zeros";
    if (lower == "ones" || lower == "one")
        return "ones";
    if (lower == "variancescaling" && config) {
        // Keras 2.2 wrote the named initializers as VarianceScaling configs.
        const json scale = config->value("scale", json(1.0));
        const std::string mode = config->value("mode", std::string("fan_in"));
        const std::string dist = config->value("distribution", std::string("truncated_normal"));
        if (scale == json(1.0) && mode == "fan_avg" && dist == "uniform")
            return "glorot_uniform";
        if (scale == json(2.0) && mode == "fan_in" && dist != "uniform")
            return "he_normal";
    }
    return "";
}

void readInitializer(KerasConfig& cfg, Node& node, const std::string& key, const std::string& def) {
    const json* v = cfg.raw(key);
    if (!v || v->is_null())
        return setNonDefaultAttr(node, key, def);
    std::string init = initializerOf(*v);
    // The attribute may not offer every name we recognise: a bias initialised
    // with GlorotUniform (seen in real files) maps to glorot_uniform, which a
    // bias does not take. Kept, it would fail the checker as a bad attribute
    // and leave everything after the layer untyped.
    const OpSchema* schema = OpRegistry::builtin().find(node.op);
    const AttrSpec* spec = schema ? schema->findAttr(key) : nullptr;
    if (!init.empty() && spec && !coerceAttribute(*spec, AttrValue(init)))
        init.clear();
    if (init.empty()) {
        // Only the starting point of training differs; the network is the same.
        return setNonDefaultAttr(node, key, def);
    }
    setNonDefaultAttr(node, key, init);
}

/// Layers that Keras runs only when training and that keep the input shape:
/// random augmentation (RandomCrop is not one: it changes the size) and noise.
bool isTrainingOnlyLayer(const std::string& cls) {
    static const std::vector<std::string> kLayers{
        "RandomFlip",        "RandomRotation",  "RandomZoom",
        "RandomTranslation", "RandomContrast",  "RandomBrightness",
        "GaussianNoise",     "GaussianDropout", "AlphaDropout"};
    return std::find(kLayers.begin(), kLayers.end(), cls) != kLayers.end();
}

void requireChannelsLast(KerasConfig& cfg, const std::string& label) {
    const std::string format = cfg.string("data_format", std::string("channels_last"));
    if (format == "channels_last")
        return;
    throw KerasFormatError(cfg.pathOf("data_format"),
                           strCat(label, " uses data_format '", format,
                                  "' (N×C×H×W). SegForge works on channels_last tensors "
                                  "(N×H×W×C) only: rebuild the model with "
                                  "data_format='channels_last', the Keras default"));
}

std::string paddingOf(KerasConfig& cfg) {
    std::string p = cfg.string("padding", std::string("valid"));
    std::transform(p.begin(), p.end(), p.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return p; // anything but valid/same stays and is reported by the checker
}

void ignoreRegularizers(KerasConfig& cfg, std::initializer_list<const char*> keys) {
    for (const char* k : keys)
        cfg.ignoreIfSet(k, "SegForge trains without regularizers and constraints");
}

KerasLayerMapping conv(const std::string& cls, const std::string& name, KerasConfig& cfg,
                       bool transpose, ImportLog& log) {
    const std::string label = strCat(cls, " '", name, "'");
    requireChannelsLast(cfg, label);
    KerasLayerMapping m;
    m.node.op = transpose ? "Conv2DTranspose" : "Conv2D";
    m.node.name = name;
    Node& n = m.node;
    setNonDefaultAttr(n, "filters", cfg.integer("filters", std::nullopt));
    setNonDefaultAttr(n, "kernel_size", cfg.pair("kernel_size", std::nullopt));
    setNonDefaultAttr(n, "strides", cfg.pair("strides", 1));
    setNonDefaultAttr(n, "padding", paddingOf(cfg));
    setNonDefaultAttr(n, "dilation_rate", cfg.pair("dilation_rate", 1));
    const std::string act = activationOf(cfg);
    if (!supportedActivation(act))
        log.warning(cfg.pathOf("activation"),
                    strCat(label, ": activation '", act, "' has no SegForge equivalent; the "
                                  "checker reports it on the node"));
    setNonDefaultAttr(n, "activation", act);
    setNonDefaultAttr(n, "use_bias", cfg.boolean("use_bias", true));
    readInitializer(cfg, n, "kernel_initializer", "glorot_uniform");
    readInitializer(cfg, n, "bias_initializer", "zeros");
    ignoreRegularizers(cfg, {"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                             "kernel_constraint", "bias_constraint"});
    cfg.ignoreIfSet("lora_rank", "LoRA adapters are not imported");
    cfg.accept({"lora_alpha"});
    const std::int64_t groups = cfg.integer("groups", 1);
    if (groups != 1)
        m.node = kerasPlaceholder(cls, name, strCat("grouped convolution, groups=", groups), 1);
    if (transpose && cfg.has("output_padding"))
        m.node = kerasPlaceholder(cls, name,
                                  "output_padding " + jsonExcerpt(*cfg.raw("output_padding")), 1);
    return m;
}

KerasLayerMapping pool(const std::string& op, const std::string& cls, const std::string& name,
                       KerasConfig& cfg) {
    requireChannelsLast(cfg, strCat(cls, " '", name, "'"));
    KerasLayerMapping m;
    m.node.op = op;
    m.node.name = name;
    const std::vector<std::int64_t> poolSize = cfg.pair("pool_size", 2);
    setNonDefaultAttr(m.node, "pool_size", poolSize);
    // strides None (the default) means pool_size; SegForge writes that as 0.
    // Keras 3 writes None as the pool size itself: the same thing.
    std::vector<std::int64_t> strides{0, 0};
    if (cfg.has("strides") && cfg.pair("strides", 0) != poolSize)
        strides = cfg.pair("strides", 0);
    setNonDefaultAttr(m.node, "strides", strides);
    setNonDefaultAttr(m.node, "padding", paddingOf(cfg));
    return m;
}

KerasLayerMapping activation(const std::string& name, const std::string& act, double alpha) {
    KerasLayerMapping m;
    m.node.op = "Activation";
    m.node.name = name;
    setNonDefaultAttr(m.node, "activation", act);
    if (act == "leaky_relu")
        setNonDefaultAttr(m.node, "alpha", alpha);
    return m;
}

KerasLayerMapping simple(const std::string& op, const std::string& name) {
    KerasLayerMapping m;
    m.node.op = op;
    m.node.name = name;
    return m;
}

KerasLayerMapping placeholderMapping(const std::string& cls, const std::string& name,
                                     const std::string& reason, int numInputs) {
    KerasLayerMapping m;
    m.node = kerasPlaceholder(cls, name, reason, numInputs);
    return m;
}

KerasLayerMapping mapKnown(const std::string& cls, const std::string& name, KerasConfig& cfg,
                           int numInputs, ImportLog& log) {
    const std::string label = strCat(cls, " '", name, "'");
    if (cls == "Conv2D" || cls == "Convolution2D")
        return conv(cls, name, cfg, false, log);
    if (cls == "Conv2DTranspose" || cls == "Convolution2DTranspose" || cls == "Deconvolution2D")
        return conv(cls, name, cfg, true, log);
    if (cls == "MaxPooling2D" || cls == "MaxPool2D")
        return pool("MaxPool2D", cls, name, cfg);
    if (cls == "AveragePooling2D" || cls == "AvgPool2D")
        return pool("AvgPool2D", cls, name, cfg);
    if (cls == "UpSampling2D") {
        requireChannelsLast(cfg, label);
        KerasLayerMapping m = simple("UpSampling2D", name);
        setNonDefaultAttr(m.node, "size", cfg.pair("size", 2));
        setNonDefaultAttr(m.node, "interpolation", cfg.string("interpolation", std::string("nearest")));
        return m;
    }
    if (cls == "Concatenate") {
        KerasLayerMapping m = simple("Concatenate", name);
        setNonDefaultAttr(m.node, "axis", cfg.integer("axis", -1));
        setNonDefaultAttr(m.node, "num_inputs", std::int64_t{numInputs});
        return m;
    }
    if (cls == "Add" || cls == "Multiply") {
        KerasLayerMapping m = simple(cls, name);
        setNonDefaultAttr(m.node, "num_inputs", std::int64_t{numInputs});
        return m;
    }
    if (cls == "BatchNormalization") {
        const json* axis = cfg.raw("axis");
        json a = axis ? *axis : json(-1);
        if (a.is_array() && a.size() == 1)
            a = a[0];
        if (!(a == json(-1) || a == json(3)))
            return placeholderMapping(cls, name, "normalises axis " + jsonExcerpt(a) + ", not the channels",
                                      numInputs);
        KerasLayerMapping m = simple("BatchNormalization", name);
        setNonDefaultAttr(m.node, "momentum", cfg.number("momentum", 0.99));
        setNonDefaultAttr(m.node, "epsilon", cfg.number("epsilon", 1e-3));
        setNonDefaultAttr(m.node, "center", cfg.boolean("center", true));
        setNonDefaultAttr(m.node, "scale", cfg.boolean("scale", true));
        cfg.accept({"beta_initializer", "gamma_initializer", "moving_mean_initializer",
                    "moving_variance_initializer", "fused", "synchronized", "renorm_clipping",
                    "renorm_momentum"});
        ignoreRegularizers(cfg, {"beta_regularizer", "gamma_regularizer", "beta_constraint",
                                 "gamma_constraint"});
        cfg.ignoreIfSet("renorm", "batch renormalization is not supported", json(false));
        cfg.ignoreIfSet("virtual_batch_size", "ghost batch normalization is not supported");
        cfg.ignoreIfSet("adjustment", "not supported");
        return m;
    }
    if (cls == "Dropout" || cls == "SpatialDropout2D") {
        if (cls == "SpatialDropout2D") {
            requireChannelsLast(cfg, label);
            log.warning(cfg.path(), label + " is imported as Dropout: Keras drops whole channels, "
                                            "SegForge drops single values (same expected scale)");
        }
        KerasLayerMapping m = simple("Dropout", name);
        setNonDefaultAttr(m.node, "rate", cfg.number("rate", 0.5));
        setNonDefaultAttr(m.node, "seed", cfg.integer("seed", 0));
        cfg.ignoreIfSet("noise_shape", "SegForge's Dropout drops single values");
        return m;
    }
    if (cls == "Activation") {
        const std::string act = activationOf(cfg);
        if (!supportedActivation(act))
            return placeholderMapping(cls, name, "activation '" + act + "'", numInputs);
        return activation(name, act, kKerasLeakySlope);
    }
    if (cls == "Softmax") {
        if (cfg.integer("axis", -1) != -1 && cfg.integer("axis", -1) != 3)
            return placeholderMapping(cls, name, "softmax over an axis other than channels", numInputs);
        return activation(name, "softmax", 0);
    }
    if (cls == "ReLU") {
        const bool capped = cfg.has("max_value");
        const double threshold = cfg.number("threshold", 0);
        const double slope = cfg.number("negative_slope", 0);
        if (capped || threshold != 0)
            return placeholderMapping(cls, name,
                                      capped ? "max_value (a capped ReLU)" : "a non-zero threshold",
                                      numInputs);
        return slope == 0 ? activation(name, "relu", 0) : activation(name, "leaky_relu", slope);
    }
    if (cls == "LeakyReLU") {
        // Keras 2 calls the slope alpha, Keras 3 negative_slope; both default to 0.3.
        const double slope = cfg.has("negative_slope") ? cfg.number("negative_slope", 0.3)
                                                       : cfg.number("alpha", 0.3);
        return activation(name, "leaky_relu", slope);
    }
    if (cls == "Cropping2D" || cls == "ZeroPadding2D") {
        requireChannelsLast(cfg, label);
        const bool crop = cls == "Cropping2D";
        KerasLayerMapping m = simple(cls, name);
        const std::string key = crop ? "cropping" : "padding";
        setNonDefaultAttr(m.node, key, cfg.quad(key, crop ? 0 : 1));
        return m;
    }
    if (cls == "Rescaling") {
        const json* scale = cfg.raw("scale");
        const json* offset = cfg.raw("offset");
        if (!scale || !scale->is_number() || (offset && !offset->is_number()))
            return placeholderMapping(cls, name, "per-channel scale or offset", numInputs);
        KerasLayerMapping m = simple("Rescale", name);
        setNonDefaultAttr(m.node, "scale", cfg.number("scale", 1));
        setNonDefaultAttr(m.node, "offset", cfg.number("offset", 0));
        return m;
    }
    if (cls == "Permute") {
        const auto dims = cfg.shape("dims");
        std::vector<std::optional<std::int64_t>> identity{1, 2, 3};
        if (dims && *dims == identity) {
            log.warning(cfg.path(), label + " keeps N×H×W×C: imported as a linear Activation");
            return activation(name, "linear", 0);
        }
        return placeholderMapping(cls, name, "it reorders the NHWC axes", numInputs);
    }
    if (isTrainingOnlyLayer(cls)) {
        // Identity at inference and shape-preserving: a placeholder here would
        // leave every tensor after it (often the whole network) untyped.
        cfg.acceptAll();
        log.warning(cfg.path(),
                    strCat(label, " acts only during training (augmentation or noise) and keeps the "
                                  "shape: imported as a linear Activation. Augment in the data "
                                  "pipeline instead, applying the same transform to image and mask"));
        return activation(name, "linear", 0);
    }
    if (cls == "Reshape") {
        const auto target = cfg.shape("target_shape");
        // Sizes are -1 (inferred) or positive; anything else cannot keep an image.
        const auto odd = [](const auto& d) { return !d || *d == 0 || *d < -1 || *d > (1 << 30); };
        if (!target || target->size() != 3 || std::any_of(target->begin(), target->end(), odd))
            return placeholderMapping(cls, name, "it leaves the N×H×W×C layout", numInputs);
        KerasLayerMapping m = placeholderMapping(cls, name, "it changes the N×H×W×C shape", numInputs);
        m.reshapeTarget = std::vector<std::int64_t>{*(*target)[0], *(*target)[1], *(*target)[2]};
        return m;
    }
    return placeholderMapping(cls, name, "", numInputs);
}

} // namespace

bool isKerasModelClass(const std::string& className) {
    return className == "Functional" || className == "Model" || className == "Sequential";
}

void setNonDefaultAttr(Node& node, const std::string& key, AttrValue value) {
    const OpSchema* schema = OpRegistry::builtin().find(node.op);
    const AttrSpec* spec = schema ? schema->findAttr(key) : nullptr;
    if (spec) {
        auto a = coerceAttribute(*spec, value);
        auto d = coerceAttribute(*spec, spec->defaultValue);
        if (a && d && *a == *d) {
            node.attrs.erase(key);
            return;
        }
    }
    node.attrs[key] = std::move(value);
}

Node kerasPlaceholder(const std::string& className, const std::string& name,
                      const std::string& reason, int numInputs) {
    Node n;
    n.op = "KerasLayer";
    n.name = name;
    n.attrs["class_name"] = className;
    if (!reason.empty())
        n.attrs["reason"] = reason;
    // Always explicit: a variadic node without num_inputs has two ports.
    n.attrs["num_inputs"] = std::int64_t{std::max(1, numInputs)};
    return n;
}

KerasLayerMapping mapKerasLayer(const std::string& className, const std::string& name,
                                const json& config, const std::string& configPath, int numInputs,
                                ImportLog& log) {
    KerasConfig cfg(config, configPath, log);
    KerasLayerMapping m = mapKnown(className, name, cfg, numInputs, log);
    if (m.node.op == "KerasLayer" && !m.reshapeTarget) {
        auto reason = m.node.attrs.find("reason");
        log.warning(configPath,
                    strCat(className, " '", name, "' has no SegForge op",
                           reason == m.node.attrs.end()
                               ? std::string()
                               : " (" + std::get<std::string>(reason->second) + ")",
                           ": imported as a KerasLayer placeholder (unsupported-layer)"));
        return m; // its fields are not ours to judge
    }
    // Fields every layer may carry; none changes what the layer computes here.
    cfg.accept({"name", "trainable", "dtype", "dynamic", "batch_input_shape", "batch_shape",
                "input_shape", "batch_size", "input_dim", "autocast"});
    cfg.finish(strCat(className, " '", name, "'"));
    return m;
}

} // namespace segforge::core::interop
