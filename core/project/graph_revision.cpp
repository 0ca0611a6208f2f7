#include "project/graph_revision.hpp"

#include "ops/op_helpers.hpp"
#include "ops/op_registry.hpp"
#include "project/project_file.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace segforge::core {

namespace {

/// FNV-1a: tiny, and the same bits everywhere (std::hash is not).
class Fnv1a {
public:
    void add(std::string_view text) {
        for (char c : text) {
            m_hash ^= static_cast<unsigned char>(c);
            m_hash *= 0x100000001b3ull;
        }
        // A separator byte keeps "ab"+"c" apart from "a"+"bc".
        m_hash ^= 0xffu;
        m_hash *= 0x100000001b3ull;
    }
    void add(std::int64_t v) { add(std::to_string(v)); }
    std::string hex() const {
        char buf[kGraphRevisionDigits + 1];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(m_hash));
        return buf;
    }

private:
    std::uint64_t m_hash = 0xcbf29ce484222325ull;
};

/// The node's op and attributes in a canonical form: every schema attribute
/// resolved (coerced, defaults filled in), in schema order; for an unknown op
/// the stored attributes as they are.
void addLayer(Fnv1a& h, const Node& node, bool forRevision) {
    h.add(node.op);
    const OpSchema* schema = OpRegistry::builtin().find(node.op);
    if (!schema) {
        for (const auto& [key, value] : node.attrs) {
            h.add(key);
            h.add(attrToJson(value).dump());
        }
        return;
    }
    for (const AttrSpec& spec : schema->attrs) {
        // Folders of a data source say where the files are, not what is learned.
        if (forRevision && schema->role == OpRole::Source && spec.type == AttrType::String)
            continue;
        h.add(spec.name);
        const auto value = ops::resolvedAttr(node, spec.name);
        if (value) {
            h.add(attrToJson(*value).dump());
        } else if (auto it = node.attrs.find(spec.name); it != node.attrs.end()) {
            h.add("invalid:" +
                  attrToJson(it->second).dump()); // the checker reports it; still a difference
        } else {
            h.add("unset");
        }
    }
}

} // namespace

std::string graphRevision(const Graph& graph) {
    Fnv1a h;
    h.add("segforge-graph-revision-1");
    for (const auto& [id, node] : graph.nodes()) { // std::map: ordered by id
        h.add(id);
        addLayer(h, node, true);
    }
    std::vector<Edge> edges = graph.edges();
    std::sort(edges.begin(), edges.end());
    for (const Edge& e : edges) {
        h.add(e.from.node);
        h.add(e.from.port);
        h.add(e.to.node);
        h.add(e.to.port);
    }
    return h.hex();
}

std::string layerSignature(const Node& node) {
    Fnv1a h;
    h.add("segforge-layer-1");
    addLayer(h, node, false);
    return h.hex();
}

bool isGraphRevision(const std::string& text) {
    return text.size() == kGraphRevisionDigits && std::all_of(text.begin(), text.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
           });
}

} // namespace segforge::core
