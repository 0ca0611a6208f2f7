#include "keras/keras_inbound.hpp"

#include "keras/keras_config.hpp"
#include "util/bounded_json.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::interop {

using nlohmann::json;

namespace {

/// Keras nests args at most a few levels deep (a list of tensors inside args);
/// the limit keeps a hostile file from exhausting the stack.
constexpr int kMaxArgDepth = 32;

std::int64_t refIndex(const json& v, const std::string& path) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 1000000)
        throw KerasFormatError(path, "expected a non-negative index, got " + jsonExcerpt(v));
    return v.get<std::int64_t>();
}

/// [name, node, tensor, …] → a reference.
KerasTensorRef refFromTriple(const json& v, const std::string& path) {
    if (!v.is_array() || v.size() < 3 || !v[0].is_string())
        throw KerasFormatError(path, "expected [layer_name, node_index, tensor_index], got " +
                                         (v.is_array() ? jsonExcerpt(v) : jsonTypeName(v)));
    return {v[0].get<std::string>(), refIndex(v[1], jsonPath(path, 1)),
            refIndex(v[2], jsonPath(path, 2)), path};
}

void collectKerasTensors(const json& v, const std::string& path, int depth,
                         std::vector<KerasTensorRef>& out) {
    if (depth > kMaxArgDepth)
        throw KerasFormatError(path, "arguments are nested too deeply");
    if (v.is_array()) {
        for (std::size_t i = 0; i < v.size(); ++i)
            collectKerasTensors(v[i], jsonPath(path, i), depth + 1, out);
        return;
    }
    if (!v.is_object())
        return; // constants (numbers, strings) passed as arguments
    auto cls = v.find("class_name");
    if (cls != v.end() && *cls == "__keras_tensor__") {
        auto config = v.find("config");
        const std::string cpath = jsonPath(path, "config");
        if (config == v.end() || !config->is_object())
            throw KerasFormatError(cpath, "a __keras_tensor__ needs a config object");
        auto history = config->find("keras_history");
        if (history == config->end())
            throw KerasFormatError(jsonPath(cpath, "keras_history"),
                                   "a __keras_tensor__ needs keras_history [layer, node, tensor]");
        out.push_back(refFromTriple(*history, jsonPath(cpath, "keras_history")));
        return;
    }
    for (auto it = v.begin(); it != v.end(); ++it)
        collectKerasTensors(it.value(), jsonPath(path, it.key()), depth + 1, out);
}

} // namespace

std::vector<std::vector<KerasTensorRef>> parseInboundNodes(const json& inbound,
                                                           const std::string& path) {
    std::vector<std::vector<KerasTensorRef>> calls;
    if (inbound.is_null())
        return calls;
    if (!inbound.is_array())
        throw KerasFormatError(path, "expected a list of calls, got " + jsonTypeName(inbound));
    for (std::size_t c = 0; c < inbound.size(); ++c) {
        const json& call = inbound[c];
        const std::string cpath = jsonPath(path, c);
        std::vector<KerasTensorRef> refs;
        if (call.is_object()) { // Keras 3
            for (const char* key : {"args", "kwargs"}) {
                if (auto it = call.find(key); it != call.end())
                    collectKerasTensors(*it, jsonPath(cpath, key), 0, refs);
            }
        } else if (call.is_array()) { // Keras 2
            for (std::size_t i = 0; i < call.size(); ++i)
                refs.push_back(refFromTriple(call[i], jsonPath(cpath, i)));
        } else {
            throw KerasFormatError(cpath,
                                   "expected a call (a list of inputs or {args, kwargs}), got " +
                                       jsonTypeName(call));
        }
        calls.push_back(std::move(refs));
    }
    return calls;
}

std::vector<KerasTensorRef> parseLayerRefs(const json& refs, const std::string& path) {
    std::vector<KerasTensorRef> out;
    if (!refs.is_array())
        throw KerasFormatError(path,
                               "expected a list of [layer_name, node_index, tensor_index], got " +
                                   jsonTypeName(refs));
    if (refs.size() >= 3 && refs[0].is_string()) {
        out.push_back(refFromTriple(refs, path));
        return out;
    }
    for (std::size_t i = 0; i < refs.size(); ++i)
        out.push_back(refFromTriple(refs[i], jsonPath(path, i)));
    return out;
}

} // namespace segforge::core::interop
