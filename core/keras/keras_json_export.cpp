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

ordered_json pairsOf(const List& quad) {
    return ordered_json::array(
        {ordered_json::array({quad[0], quad[1]}), ordered_json::array({quad[2], quad[3]})});
}

/// One attribute as its Keras config value (the op's table says how).
ordered_json configValue(const KerasAttr& k, const AttrMap& a) {
    const char* attr = k.attr.c_str();
    switch (k.value) {
    case KerasValue::Int:
        return attrInt(a, attr);
    case KerasValue::Float:
        return attrFloat(a, attr);
    case KerasValue::Bool:
        return attrBool(a, attr);
    case KerasValue::Pair:
        return attrInts(a, attr);
    case KerasValue::Quad:
        return pairsOf(attrInts(a, attr));
    case KerasValue::Lowercase:
    case KerasValue::String:
    case KerasValue::Activation:
        return attrText(a, attr);
    case KerasValue::Initializer:
        return ordered_json::parse(kerasInitializerJson(attrText(a, attr)));
    case KerasValue::PoolStrides:
        return kerasPoolStrides(a, k.attr);
    case KerasValue::ZeroIsNone:
        return attrInt(a, attr) == 0 ? ordered_json(nullptr) : ordered_json(attrInt(a, attr));
    case KerasValue::NegativeIsNone:
        return attrInt(a, attr) < 0 ? ordered_json(nullptr) : ordered_json(attrInt(a, attr));
    }
    return nullptr;
}

struct Mapped {
    std::string className;
    ordered_json config;
};

/// Layer class and config (without name/trainable/dtype) of one node, from its op's table.
std::optional<Mapped> mapLayer(const ExportLayer& l) {
    const KerasForm* form = kerasExportForm(l.schema->keras, l.attrs);
    if (!form)
        return std::nullopt;
    ordered_json c = ordered_json::object();
    for (const KerasAttr& k : form->attrs)
        c[k.key] = configValue(k, l.attrs);
    if (form->channelsLast)
        c["data_format"] = "channels_last";
    for (const KerasFixed& f : form->fixed) {
        if (f.written)
            c[f.key] = ordered_json::parse(f.json);
    }
    return Mapped{form->classes.front(), c};
}

ordered_json kerasTensor(const std::string& producer,
                         const std::map<std::string, const ExportLayer*>& byName) {
    auto it = byName.find(producer);
    const ExportLayer* p = it == byName.end() ? nullptr : it->second;
    std::string dtype = "float32";
    if (p && p->output)
        dtype = std::string(dtypeName(p->output->dtype));
    return {{"class_name", "__keras_tensor__"},
            {"config",
             {{"shape", p ? shapeJson(p->output) : ordered_json(nullptr)},
              {"dtype", dtype},
              {"keras_history", ordered_json::array({producer, 0, 0})}}}};
}

ordered_json inputLayer(const ExportLayer& l) {
    const AttrMap& a = l.attrs;
    const KerasInput& input = *l.schema->keras.input;
    const std::int64_t batch = input.batchAttr.empty() ? 0 : attrInt(a, input.batchAttr.c_str());
    const std::string dtype = attrText(a, input.dtypeAttr.c_str());
    ordered_json shape =
        ordered_json::array({batch == 0 ? ordered_json(nullptr) : ordered_json(batch),
                             attrInt(a, "height"), attrInt(a, "width"), attrInt(a, "channels")});
    return {{"module", "keras.layers"},
            {"class_name", "InputLayer"},
            {"config",
             {{"batch_shape", shape}, {"dtype", dtype}, {"sparse", false}, {"name", l.node->name}}},
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
            if (const std::string& note = l.schema->keras.input->exportNote; !note.empty())
                out.warnings.push_back(strCat(l.node->op, " '", l.node->name, "' ", note));
            continue;
        }
        auto mapped = mapLayer(l);
        if (!mapped) {
            out.errors.push_back(noKerasLayerError(l));
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
        layer["inbound_nodes"] =
            ordered_json::array({{{"args", args}, {"kwargs", ordered_json::object()}}});
        layers.push_back(std::move(layer));
    }
    ordered_json outputs = ordered_json::array();
    for (const std::string& o : eg.outputs)
        outputs.push_back(ordered_json::array({o, 0, 0}));
    out.model = {{"module", "keras.src.models.functional"},
                 {"class_name", "Functional"},
                 {"config",
                  {{"name", modelName},
                   {"trainable", true},
                   {"layers", layers},
                   {"input_layers", inputs},
                   {"output_layers", outputs}}},
                 {"registered_name", "Functional"}};
    return out;
}

} // namespace segforge::core
