#include "tensor/shape.hpp"

namespace segforge::core {

std::int64_t Shape::elementsPerSample() const {
    std::int64_t n = 1;
    for (std::size_t i = 0; i < m_dims.size(); ++i) {
        if (!(i == 0 && m_dims[i] == kBatch))
            n *= m_dims[i];
    }
    return n;
}

std::optional<std::int64_t> Shape::checkedNumel() const {
    std::int64_t n = 1;
    bool zero = false;
    for (std::int64_t d : m_dims) {
        if (d < 0)
            return std::nullopt;
        if (d == 0)
            zero = true;
        else if (__builtin_mul_overflow(n, d, &n))
            return std::nullopt;
    }
    return zero ? 0 : n;
}

std::string Shape::toString() const {
    if (m_dims.empty())
        return "scalar";
    std::string out;
    for (std::size_t i = 0; i < m_dims.size(); ++i) {
        if (i > 0)
            out += "\u00d7"; // ×
        // Only the leading axis can be the symbolic batch; a -1 elsewhere is a
        // collapsed size and must print as the number it is.
        out += (i == 0 && m_dims[i] == kBatch) ? std::string("N") : std::to_string(m_dims[i]);
    }
    return out;
}

} // namespace segforge::core
