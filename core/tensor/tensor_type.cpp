#include "tensor/tensor_type.hpp"

namespace segforge::core {

std::string TensorType::toString() const {
    std::string out = shape.toString();
    out += ' ';
    out += dtypeShortName(dtype);
    return out;
}

} // namespace segforge::core
