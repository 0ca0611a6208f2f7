#include "ops/op_registry.hpp"

#include "util/str_cat.hpp"

#include <stdexcept>

namespace segforge::core {

void OpRegistry::add(OpSchema schema) {
    if (find(schema.name))
        throw std::logic_error("op registered twice: " + schema.name);
    m_index.emplace(schema.name, m_schemas.size());
    m_schemas.push_back(std::move(schema));
}

const OpSchema* OpRegistry::find(std::string_view name) const {
    auto it = m_index.find(std::string(name));
    return it == m_index.end() ? nullptr : &m_schemas[it->second];
}

std::string OpRegistry::suggest(std::string_view name) const {
    std::string best;
    std::size_t bestDistance = std::max<std::size_t>(3, name.size() / 3) + 1;
    for (const auto& s : m_schemas) {
        std::size_t d = editDistance(name, s.name);
        if (d < bestDistance) {
            bestDistance = d;
            best = s.name;
        }
    }
    return best;
}

const OpRegistry& OpRegistry::builtin() {
    static const OpRegistry registry = [] {
        OpRegistry r;
        registerBuiltinOps(r);
        return r;
    }();
    return registry;
}

} // namespace segforge::core
