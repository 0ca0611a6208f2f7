#include "keras/keras_layer_map.hpp"

#include "kernels/activation_math.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_registry.hpp"
#include "util/bounded_json.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cctype>
#include <map>

// Every Keras class that has an op is read through that op's table
// (OpSchema::keras, filled in the op's own file): the loop below reads the
// attributes it lists, and the KerasHook functions handle the few layers that
// are more than key-for-key. What is left here is Keras' own: layers without
// an op (training-only augmentation, Permute, Reshape) and the placeholder.

namespace segforge::core::interop {

using nlohmann::json;

namespace {

constexpr const char* kKernelRegularizer = "kernel_regularizer";
constexpr const char* kAxisKey = "axis";

/// An op and the form of its Keras table that one Keras class is read with.
struct KerasClassOp {
    const OpSchema* schema = nullptr;
    const KerasForm* form = nullptr;
};

/// Keras class (and alias) → op and form, from every op's table.
const std::map<std::string, KerasClassOp, std::less<>>& kerasClasses() {
    static const auto table = [] {
        std::map<std::string, KerasClassOp, std::less<>> t;
        for (const OpSchema& s : OpRegistry::builtin().all()) {
            for (const KerasForm& form : s.keras.forms) {
                for (const std::string& cls : form.classes)
                    t.emplace(cls, KerasClassOp{&s, &form});
            }
        }
        return t;
    }();
    return table;
}

/// The one op whose Keras table says `has` (the placeholder, the identity, the input).
template <typename Has> const OpSchema& opWhere(Has has) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (has(s.keras))
            return s;
    }
    throw std::logic_error("no op's Keras table has the role the importer needs");
}

const OpSchema& placeholderOp() {
    static const OpSchema& op = opWhere([](const KerasMapping& k) { return k.placeholder; });
    return op;
}

bool supportedActivation(const std::string& name) {
    const auto& choices = ops::activationChoices();
    return std::find(choices.begin(), choices.end(), name) != choices.end();
}

/// The activation of a layer: null → linear, a name, or a serialized function.
std::string activationOf(KerasConfig& cfg, const std::string& key) {
    const json* v = cfg.raw(key);
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
    throw KerasFormatError(cfg.pathOf(key), "expected an activation name, got " + jsonTypeName(*v));
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

void readInitializer(KerasConfig& cfg, Node& node, const std::string& attr, const std::string& key,
                     const std::string& def) {
    const json* v = cfg.raw(key);
    if (!v || v->is_null())
        return setNonDefaultAttr(node, attr, def);
    std::string init = initializerOf(*v);
    // The attribute may not offer every name we recognise: a bias initialised
    // with GlorotUniform (seen in real files) maps to glorot_uniform, which a
    // bias does not take. Kept, it would fail the checker as a bad attribute
    // and leave everything after the layer untyped.
    const OpSchema* schema = OpRegistry::builtin().find(node.op);
    const AttrSpec* spec = schema ? schema->findAttr(attr) : nullptr;
    if (!init.empty() && spec && !coerceAttribute(*spec, AttrValue(init)))
        init.clear();
    if (init.empty()) {
        // Only the starting point of training differs; the network is the same.
        return setNonDefaultAttr(node, attr, def);
    }
    setNonDefaultAttr(node, attr, init);
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

/// Reads data_format. A channels_first layer is accepted only when the whole
/// model is being converted (`channelsFirst`); a channels_last one is refused
/// then, because the conversion moves every axis.
void readDataFormat(KerasConfig& cfg, const std::string& label, bool channelsFirst) {
    const std::string format =
        cfg.string("data_format", std::string(channelsFirst ? "channels_first" : "channels_last"));
    if (format == (channelsFirst ? "channels_first" : "channels_last"))
        return;
    if (channelsFirst)
        throw KerasFormatError(cfg.pathOf("data_format"),
                               strCat(label, " uses data_format '", format,
                                      "' in a channels_first model: a model that mixes the two "
                                      "layouts cannot be converted to channels_last"));
    throw KerasFormatError(cfg.pathOf("data_format"),
                           strCat(label, " uses data_format '", format,
                                  "', which SegForge does not know (channels_last or "
                                  "channels_first)"));
}

/// A Keras axis of an N×C×H×W tensor → the same axis of N×H×W×C, as SegForge
/// writes it (channels: -1).
std::int64_t channelsLastAxis(std::int64_t axis) {
    const std::int64_t a = axis < 0 ? axis + 4 : axis;
    switch (a) {
    case 1:
        return -1;
    case 2:
        return 1;
    case 3:
        return 2;
    default:
        return axis; // the batch, or out of range: the checker reports it
    }
}

/// The `axis` field of a channels_first layer, rewritten for channels_last.
json channelsLastAxisJson(const json& axis) {
    if (axis.is_number_integer())
        return channelsLastAxis(axis.get<std::int64_t>());
    if (axis.is_array()) {
        json out = json::array();
        for (const json& a : axis)
            out.push_back(channelsLastAxisJson(a));
        return out;
    }
    return axis;
}

std::string lowercase(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::optional<std::int64_t> intDefault(const KerasAttr& a) {
    if (!a.kerasDefault)
        return std::nullopt;
    return std::get<std::int64_t>(*a.kerasDefault);
}

double floatDefault(const KerasAttr& a) {
    return a.kerasDefault ? std::get<double>(*a.kerasDefault) : 0.0;
}

std::optional<std::string> stringDefault(const KerasAttr& a) {
    if (!a.kerasDefault)
        return std::nullopt;
    return std::get<std::string>(*a.kerasDefault);
}

/// What one mapped layer is being read into.
struct Reading {
    const std::string& cls;
    const std::string& name;
    const std::string label; ///< "Conv2D 'c1'"
    const KerasForm& form;
    KerasConfig& cfg;
    ImportLog& log;
    Node& node;
    bool channelsFirst = false; ///< the model is converted from channels_first
    AttrMap read{};             ///< values as read from the config, by SegForge attribute
};

/// Reads one table row into the node. Returns a placeholder reason when the
/// value makes the layer one (an activation SegForge lacks, on an Activation).
std::optional<std::string> readAttr(Reading& r, const KerasAttr& a) {
    std::string key = a.key;
    if (!r.cfg.has(key)) {
        for (const std::string& old : a.oldKeys) {
            if (r.cfg.has(old))
                key = old;
        }
    }
    AttrValue value;
    switch (a.value) {
    case KerasValue::Int:
    case KerasValue::NegativeIsNone:
        value = r.cfg.integer(key, intDefault(a));
        if (r.channelsFirst && key == kAxisKey)
            value = channelsLastAxis(std::get<std::int64_t>(value));
        break;
    case KerasValue::ZeroIsNone:
        value = r.cfg.integer(key, intDefault(a).value_or(0));
        break;
    case KerasValue::Float:
        value = r.cfg.number(key, floatDefault(a));
        break;
    case KerasValue::Bool:
        value = r.cfg.boolean(key, a.kerasDefault && std::get<bool>(*a.kerasDefault));
        break;
    case KerasValue::Pair:
        value = r.cfg.pair(key, intDefault(a));
        break;
    case KerasValue::Quad:
        value = r.cfg.quad(key, intDefault(a).value_or(0));
        break;
    case KerasValue::String:
        value = r.cfg.string(key, stringDefault(a));
        break;
    case KerasValue::Lowercase:
        // Anything but the listed choices stays and is reported by the checker.
        value = lowercase(r.cfg.string(key, stringDefault(a)));
        break;
    case KerasValue::Initializer:
        readInitializer(r.cfg, r.node, a.attr, key, stringDefault(a).value_or(""));
        return std::nullopt;
    case KerasValue::Activation: {
        const std::string act = activationOf(r.cfg, key);
        if (!supportedActivation(act)) {
            if (r.form.hook == KerasHook::ActivationFunction)
                return "activation '" + act + "'";
            r.log.warning(r.cfg.pathOf(key),
                          strCat(r.label, ": activation '", act,
                                 "' has no SegForge equivalent; the "
                                 "checker reports it on the node"),
                          {strCat("activation '", act, "' has no SegForge equivalent"), r.name,
                           "; the checker reports it on each node"});
        }
        value = act;
        break;
    }
    case KerasValue::PoolStrides: {
        // None (the default) means the pool size; SegForge writes that as 0.
        // Keras 3 writes None as the pool size itself: the same thing.
        const AttrValue& pool = r.read.at("pool_size");
        std::vector<std::int64_t> strides{0, 0};
        if (r.cfg.has(key) && AttrValue(r.cfg.pair(key, 0)) != pool)
            strides = r.cfg.pair(key, 0);
        value = strides;
        break;
    }
    }
    r.read[a.attr] = value;
    setNonDefaultAttr(r.node, a.attr, std::move(value));
    return std::nullopt;
}

// The hooks: what a table cannot say. A gate runs before the table is read and
// may turn the layer into a placeholder (its reason); a finish runs after.

std::optional<std::string> gateHook(Reading& r) {
    KerasConfig& cfg = r.cfg;
    switch (r.form.hook) {
    case KerasHook::BatchNormAxis: {
        const json* axis = cfg.raw(kAxisKey);
        json a = axis ? *axis : json(-1);
        if (r.channelsFirst)
            a = channelsLastAxisJson(a);
        if (a.is_array() && a.size() == 1)
            a = a[0];
        if (!(a == json(-1) || a == json(3)))
            return "normalises axis " + jsonExcerpt(a) + ", not the channels";
        return std::nullopt;
    }
    case KerasHook::ScalarRescale: {
        const json* scale = cfg.raw("scale");
        const json* offset = cfg.raw("offset");
        if (!scale || !scale->is_number() || (offset && !offset->is_number()))
            return "per-channel scale or offset";
        return std::nullopt;
    }
    case KerasHook::SoftmaxAxis: {
        std::int64_t axis = cfg.integer(kAxisKey, -1);
        if (r.channelsFirst)
            axis = channelsLastAxis(axis);
        if (axis != -1 && axis != 3)
            return "softmax over an axis other than channels";
        return std::nullopt;
    }
    case KerasHook::ReLU: {
        const bool capped = cfg.has("max_value");
        const double threshold = cfg.number("threshold", 0);
        if (capped || threshold != 0)
            return capped ? "max_value (a capped ReLU)" : "a non-zero threshold";
        return std::nullopt;
    }
    case KerasHook::KeepDims: {
        // Keras' default keepdims=False gives N×C, which is no image: read as
        // N×1×1×C. A Reshape((1, 1, C)) after it is then the identity.
        const json* keep = cfg.raw("keepdims");
        if (!keep || !keep->is_boolean() || !keep->get<bool>()) {
            const std::string what = "keepdims=False (N×C) imported as keepdims=True (N×1×1×C)";
            const std::string why = ": SegForge tensors stay N×H×W×C images; a Reshape to "
                                    "(1, 1, C) after it becomes the identity, a Dense stays a "
                                    "placeholder";
            r.log.warning(keep ? cfg.pathOf("keepdims") : cfg.path(),
                          strCat(r.label, ": ", what, why), {what, r.name, why});
        }
        return std::nullopt;
    }
    case KerasHook::None:
    case KerasHook::Convolution:
    case KerasHook::TransposedConvolution:
    case KerasHook::ActivationFunction:
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::string> finishHook(Reading& r) {
    KerasConfig& cfg = r.cfg;
    switch (r.form.hook) {
    case KerasHook::Convolution:
    case KerasHook::TransposedConvolution: {
        std::optional<std::string> reason;
        const std::int64_t groups = cfg.integer("groups", 1);
        if (groups != 1)
            reason = strCat("grouped convolution, groups=", groups);
        if (r.form.hook == KerasHook::TransposedConvolution && cfg.has("output_padding"))
            reason = "output_padding " + jsonExcerpt(*cfg.raw("output_padding"));
        return reason;
    }
    case KerasHook::ReLU: {
        // The form implies leaky_relu with the slope read; a slope of 0 is relu.
        auto alpha = r.read.find("alpha");
        if (alpha != r.read.end() && alpha->second == AttrValue(0.0)) {
            setNonDefaultAttr(r.node, "activation", std::string("relu"));
            r.node.attrs.erase("alpha");
        }
        return std::nullopt;
    }
    case KerasHook::ActivationFunction: {
        // The function leaky_relu has Keras' fixed slope; the attribute's default is the layer's.
        auto act = r.node.attrs.find("activation");
        if (act != r.node.attrs.end() && act->second == AttrValue(std::string("leaky_relu")))
            setNonDefaultAttr(r.node, "alpha", kernels::kLeakyReluSlope);
        return std::nullopt;
    }
    case KerasHook::None:
    case KerasHook::BatchNormAxis:
    case KerasHook::ScalarRescale:
    case KerasHook::SoftmaxAxis:
    case KerasHook::KeepDims:
        return std::nullopt;
    }
    return std::nullopt;
}

KerasLayerMapping placeholderMapping(const std::string& cls, const std::string& name,
                                     const std::string& reason, int numInputs) {
    KerasLayerMapping m;
    m.node = kerasPlaceholder(cls, name, reason, numInputs);
    return m;
}

/// A layer that keeps the tensor as it is: the op whose table names its identity.
KerasLayerMapping identityMapping(const std::string& name) {
    const OpSchema& op = kerasIdentityOp();
    KerasLayerMapping m;
    m.node.op = op.name;
    m.node.name = name;
    for (const auto& [key, value] : *op.keras.identity)
        setNonDefaultAttr(m.node, key, value);
    return m;
}

/// A layer read through its op's table.
KerasLayerMapping mapByTable(const KerasClassOp& entry, const std::string& cls,
                             const std::string& name, KerasConfig& cfg, int numInputs,
                             ImportLog& log, bool channelsFirst) {
    const KerasForm& form = *entry.form;
    KerasLayerMapping m;
    m.node.op = entry.schema->name;
    m.node.name = name;
    Reading r{cls, name, strCat(cls, " '", name, "'"), form, cfg, log, m.node, channelsFirst};
    if (form.channelsLast)
        readDataFormat(cfg, r.label, channelsFirst);
    if (!form.importNote.empty())
        log.warning(cfg.path(), r.label + " " + form.importNote,
                    {strCat(cls, " ", form.importNote), name});
    for (const auto& [key, value] : form.implies)
        setNonDefaultAttr(m.node, key, value);
    if (auto reason = gateHook(r))
        return placeholderMapping(cls, name, *reason, numInputs);
    for (const KerasAttr& a : form.attrs) {
        if (auto reason = readAttr(r, a))
            return placeholderMapping(cls, name, *reason, numInputs);
    }
    for (const KerasFixed& f : form.fixed) {
        if (f.key == kKernelRegularizer) {
            m.regularizable = true;
            const json* v = cfg.raw(f.key);
            if (auto l2 = v ? pureL2Factor(*v) : std::nullopt) {
                m.kernelL2 = *l2;
                m.kernelL2Warning = strCat(f.key, " ", describeKerasValue(*v), " ignored");
            }
        }
        if (f.ignoredWhy.empty())
            cfg.accept({f.key.c_str()});
        else
            cfg.ignoreIfSet(f.key, f.ignoredWhy, json::parse(f.json));
    }
    if (entry.schema->variadicInputs)
        setNonDefaultAttr(m.node, "num_inputs", std::int64_t{numInputs});
    if (auto reason = finishHook(r))
        m.node = kerasPlaceholder(cls, name, *reason, 1);
    return m;
}

KerasLayerMapping mapKnown(const std::string& cls, const std::string& name, KerasConfig& cfg,
                           int numInputs, ImportLog& log, bool channelsFirst) {
    const std::string label = strCat(cls, " '", name, "'");
    const auto& classes = kerasClasses();
    if (auto it = classes.find(cls); it != classes.end())
        return mapByTable(it->second, cls, name, cfg, numInputs, log, channelsFirst);
    // Keras layers without an op of their own.
    if (cls == "Permute") {
        const auto dims = cfg.shape("dims");
        std::vector<std::optional<std::int64_t>> identity{1, 2, 3};
        if (dims && *dims == identity) {
            log.warning(
                cfg.path(),
                strCat(label, " keeps N×H×W×C: imported as a linear ", kerasIdentityOp().name),
                {strCat("Permute keeping N×H×W×C imported as a linear ", kerasIdentityOp().name),
                 name});
            return identityMapping(name);
        }
        return placeholderMapping(cls, name, "it reorders the NHWC axes", numInputs);
    }
    if (isTrainingOnlyLayer(cls)) {
        // Identity at inference and shape-preserving: a placeholder here would
        // leave every tensor after it (often the whole network) untyped.
        cfg.acceptAll();
        const std::string advice = ". Augment in the data pipeline instead, applying the same "
                                   "transform to image and mask";
        log.warning(
            cfg.path(),
            strCat(label,
                   " acts only during training (augmentation or noise) and keeps the "
                   "shape: imported as a linear ",
                   kerasIdentityOp().name, advice),
            {strCat("training-only ", cls, " imported as a linear ", kerasIdentityOp().name), name,
             advice});
        return identityMapping(name);
    }
    if (cls == "Reshape") {
        const auto target = cfg.shape("target_shape");
        // Sizes are -1 (inferred) or positive; anything else cannot keep an image.
        const auto odd = [](const auto& d) { return !d || *d == 0 || *d < -1 || *d > (1 << 30); };
        if (!target || target->size() != 3 || std::any_of(target->begin(), target->end(), odd))
            return placeholderMapping(cls, name, "it leaves the N×H×W×C layout", numInputs);
        KerasLayerMapping m =
            placeholderMapping(cls, name, "it changes the N×H×W×C shape", numInputs);
        m.reshapeTarget = std::vector<std::int64_t>{*(*target)[0], *(*target)[1], *(*target)[2]};
        return m;
    }
    return placeholderMapping(cls, name, "", numInputs);
}

} // namespace

std::optional<double> pureL2Factor(const json& regularizer) {
    // Keras' default factor for the named regularizer "l2" (Keras 2 and 3).
    constexpr double kKerasDefaultL2 = 0.01;
    if (regularizer.is_string()) {
        const std::string name = lowercase(regularizer.get<std::string>());
        return name == "l2" ? std::optional<double>(kKerasDefaultL2) : std::nullopt;
    }
    if (!regularizer.is_object() || !regularizer.contains("class_name") ||
        !regularizer["class_name"].is_string())
        return std::nullopt;
    const std::string cls = lowercase(regularizer["class_name"].get<std::string>());
    if (cls != "l2" && cls != "l1l2" && cls != "l1_l2")
        return std::nullopt;
    const json config = regularizer.value("config", json::object());
    if (!config.is_object())
        return std::nullopt;
    const json l1 = config.value("l1", json(0.0));
    const json l2 = config.value("l2", json(cls == "l2" ? kKerasDefaultL2 : 0.0));
    if (!l1.is_number() || l1.get<double>() != 0.0 || !l2.is_number() || !(l2.get<double>() > 0))
        return std::nullopt;
    return l2.get<double>();
}

const OpSchema& kerasInputOp() {
    static const OpSchema& op =
        opWhere([](const KerasMapping& k) { return k.input && k.input->importTarget; });
    return op;
}

const OpSchema& kerasIdentityOp() {
    static const OpSchema& op =
        opWhere([](const KerasMapping& k) { return k.identity.has_value(); });
    return op;
}

bool isKerasPlaceholder(const Node& node) {
    return node.op == placeholderOp().name;
}

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
    n.op = placeholderOp().name;
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
                                ImportLog& log, bool channelsFirst) {
    KerasConfig cfg(config, configPath, log, name);
    KerasLayerMapping m = mapKnown(className, name, cfg, numInputs, log, channelsFirst);
    if (isKerasPlaceholder(m.node) && !m.reshapeTarget) {
        auto reason = m.node.attrs.find("reason");
        const std::string why = reason == m.node.attrs.end()
                                    ? std::string()
                                    : " (" + std::get<std::string>(reason->second) + ")";
        log.warning(configPath,
                    strCat(className, " '", name, "' has no SegForge op", why, ": imported as a ",
                           placeholderOp().name, " placeholder (unsupported-layer)"),
                    {strCat(className, " has no SegForge op", why, ": imported as ",
                            placeholderOp().name, " placeholders (unsupported-layer)"),
                     name});
        return m; // its fields are not ours to judge
    }
    // Fields every layer may carry; none changes what the layer computes here.
    cfg.accept({"name", "trainable", "dtype", "dynamic", "batch_input_shape", "batch_shape",
                "input_shape", "batch_size", "input_dim", "autocast"});
    cfg.finish(strCat(className, " '", name, "'"));
    return m;
}

} // namespace segforge::core::interop
