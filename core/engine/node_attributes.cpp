#include "engine/node_attributes.hpp"

#include "util/str_cat.hpp"

#include <stdexcept>

namespace segforge::core {

AttrMap resolveAttributes(const OpSchema& schema, const Node& node) {
    AttrMap resolved;
    for (const auto& spec : schema.attrs) {
        auto it = node.attrs.find(spec.name);
        std::string why;
        auto value =
            coerceAttribute(spec, it == node.attrs.end() ? spec.defaultValue : it->second, &why);
        if (!value)
            throw std::invalid_argument(
                strCat("node '", node.name, "': attribute '", spec.name, "': ", why));
        resolved.emplace(spec.name, std::move(*value));
    }
    return resolved;
}

Shape concreteShape(const Shape& shape, std::int64_t batch) {
    std::vector<std::int64_t> dims = shape.dims();
    for (auto& d : dims) {
        if (d == Shape::kBatch)
            d = batch;
    }
    return Shape(std::move(dims));
}

} // namespace segforge::core
