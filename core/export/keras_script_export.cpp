#include "export/export_graph.hpp"
#include "export/python_script_export.hpp"
#include "export/python_sources.hpp"
#include "export/script_common.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <map>

namespace segforge::core {

using namespace interop;

namespace {

using List = std::vector<std::int64_t>;

std::string pairs(const List& q) {
    return strCat("((", q[0], ", ", q[1], "), (", q[2], ", ", q[3], "))");
}

std::string intOrNone(std::int64_t v, bool none) {
    return none ? std::string("None") : std::to_string(v);
}

/// One attribute as a Python argument value (the op's table says how).
std::string pyValue(const KerasAttr& k, const AttrMap& a) {
    const char* attr = k.attr.c_str();
    switch (k.value) {
    case KerasValue::Int:
        return std::to_string(attrInt(a, attr));
    case KerasValue::Float:
        return pyFloat(attrFloat(a, attr));
    case KerasValue::Bool:
        return pyBool(attrBool(a, attr));
    case KerasValue::Pair:
        return pyInts(a, attr);
    case KerasValue::Quad:
        return pairs(attrInts(a, attr));
    case KerasValue::Lowercase:
    case KerasValue::String:
    case KerasValue::Activation:
    case KerasValue::Initializer:
        return pyText(a, attr);
    case KerasValue::PoolStrides: {
        // All 0 is Keras' default None, written so; else the strides the JSON export writes.
        const List& st = attrInts(a, attr);
        return std::all_of(st.begin(), st.end(), [](std::int64_t v) { return v == 0; })
                   ? std::string("None")
                   : pyTuple(kerasPoolStrides(a, k.attr));
    }
    case KerasValue::ZeroIsNone:
        return intOrNone(attrInt(a, attr), attrInt(a, attr) == 0);
    case KerasValue::NegativeIsNone:
        return intOrNone(attrInt(a, attr), attrInt(a, attr) < 0);
    }
    return "None";
}

/// "16, kernel_size=(3, 3)": the arguments of a table, positional ones bare.
std::string pyArguments(const std::vector<KerasAttr>& table, const AttrMap& a) {
    std::string args;
    for (const KerasAttr& k : table)
        args += strCat(args.empty() ? "" : ", ", k.positional ? "" : k.key + "=", pyValue(k, a));
    return args;
}

/// The Keras layer constructor of one node ("" if none), from its op's table.
std::string layerCall(const ExportLayer& l) {
    const KerasForm* form = kerasExportForm(l.schema->keras, l.attrs);
    if (!form)
        return "";
    std::string args;
    for (const KerasFixed& f : form->fixed) {
        if (f.written && f.inScript) // JSON's literals in Python's spelling
            args += strCat(f.key, "=",
                           f.json == "true"    ? std::string("True")
                           : f.json == "false" ? std::string("False")
                           : f.json == "null"  ? std::string("None")
                                               : f.json,
                           ", ");
    }
    const std::string attrs = pyArguments(form->attrs, l.attrs);
    return strCat("layers.", form->classes.front(), "(", args, attrs, attrs.empty() ? "" : ", ",
                  "name=", pythonString(l.node->name), ")");
}

std::string inputCall(const ExportLayer& l) {
    const AttrMap& a = l.attrs;
    const KerasInput& input = *l.schema->keras.input;
    const std::int64_t batch = input.batchAttr.empty() ? 0 : attrInt(a, input.batchAttr.c_str());
    return strCat("keras.Input(shape=",
                  pyTuple({attrInt(a, "height"), attrInt(a, "width"), attrInt(a, "channels")}),
                  batch ? strCat(", batch_size=", batch) : std::string(),
                  ", dtype=", pyText(a, input.dtypeAttr.c_str()),
                  ", name=", pythonString(l.node->name), ")");
}

/// Parameter names in Keras' get_weights() order, from the op's table.
std::vector<std::string> paramNames(const ExportLayer& l) {
    std::vector<std::string> names;
    for (const auto& [name, condition] : l.schema->keras.weights) {
        if (condition.empty() || attrBool(l.attrs, condition.c_str()))
            names.push_back(name);
    }
    return names;
}

std::string lossCode(const ExportGraph& g, std::vector<std::string>& warnings) {
    const OpSchema* schema = g.lossOp.empty() ? nullptr : OpRegistry::builtin().find(g.lossOp);
    if (schema && schema->keras.loss)
        return strCat(schema->keras.loss->callable, "(",
                      pyArguments(schema->keras.loss->args, g.lossAttrs), ")");
    warnings.push_back("the project has no loss; the script trains with binary cross-entropy");
    return "keras.losses.BinaryCrossentropy()";
}

} // namespace

ScriptExport exportKerasScript(const Project& project, const std::string& weights) {
    ScriptExport out;
    ExportGraph g = collectExportGraph(project.graph, out);
    if (!out.ok())
        return out;
    std::map<std::string, std::string> var; // layer name → Python variable
    std::string build =
        "\n\ndef build_model():\n    \"\"\"The network, layer for layer as in SegForge.\"\"\"\n";
    std::string inputs, layerNames, params, inputDtype = "\"float32\"";
    for (const ExportLayer& l : g.layers) {
        const std::string& name = l.node->name;
        const std::string v = "t_" + pythonIdentifier(name);
        var[name] = v;
        layerNames += "    " + pythonString(name) + ",\n";
        if (l.isInput()) {
            build += strCat("    ", v, " = ", inputCall(l), "\n");
            inputs += (inputs.empty() ? "" : ", ") + v;
            inputDtype = pyText(l.attrs, l.schema->keras.input->dtypeAttr.c_str());
            continue;
        }
        const std::string call = layerCall(l);
        if (call.empty()) {
            out.errors.push_back(noKerasLayerError(l));
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
    build += strCat("    return keras.Model(inputs=[", inputs, "], outputs=[", outputs,
                    "], name=", pythonString(pythonIdentifier(project.name)), ")\n");
    if (!out.ok())
        return out;

    const ScriptData data = scriptDataOf(project, g);
    std::string text = scriptHeader(project, "keras");
    text += "\n\n# Every layer, by its SegForge name.\nLAYER_NAMES = [\n" + layerNames + "]\n";
    text += "\n# Parameters of each layer in Keras' get_weights() order; SegForge stores them\n"
            "# as '<layer>/<param>' in the same layouts as Keras.\nPARAMETERS = {\n" +
            params + "}\n";
    text += "INPUT_DTYPE = " + inputDtype + "\n";
    text += build;
    text += pythonSource("keras_load_weights");
    text += pythonSource("keras_losses");
    text += scriptDataReader(data);
    const std::string body =
        strCat(R"(    keras.utils.set_random_seed(args.seed)
    model = build_model()
    if args.weights:
        load_weights(model, args.weights)
    model.compile(optimizer=)",
               optimizerCall(project.training, "keras.optimizers.", "learning_rate=args.lr"),
               R"(, loss=)", lossCode(g, out.warnings), R"()
    model.summary()
    pairs = load_pairs(args.data)
    for epoch in range(args.epochs):
        losses = []
        for images, targets in batches(pairs, BATCH_SIZE, seed=args.seed + epoch):
            losses.append(float(model.train_on_batch(images.astype(INPUT_DTYPE), targets)))
        print(f"epoch {epoch + 1}/{args.epochs}: loss {np.mean(losses):.4f}")
    model.save()",
               pythonString(pythonIdentifier(project.name) + ".keras"), R"()
)");
    text += scriptMain(project, weights, body);
    out.text = std::move(text);
    return out;
}

} // namespace segforge::core
