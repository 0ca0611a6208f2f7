#include "graph/attribute.hpp"

#include <sstream>

namespace segforge::core {

std::string attrToString(const AttrValue& value) {
    std::ostringstream out;
    std::visit(
        [&out](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) {
                out << (v ? "true" : "false");
            } else if constexpr (std::is_same_v<T, std::string>) {
                out << '"' << v << '"';
            } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
                out << '[';
                for (std::size_t i = 0; i < v.size(); ++i)
                    out << (i ? ", " : "") << v[i];
                out << ']';
            } else {
                out << v;
            }
        },
        value);
    return out.str();
}

} // namespace segforge::core
