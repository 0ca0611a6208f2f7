#include "tensor/dtype.hpp"

namespace segforge::core {

std::string_view dtypeName(DType dtype) {
    switch (dtype) {
    case DType::UInt8:
        return "uint8";
    case DType::UInt16:
        return "uint16";
    case DType::Int32:
        return "int32";
    case DType::Float32:
        return "float32";
    case DType::Bool:
        return "bool";
    }
    return "?";
}

std::string_view dtypeShortName(DType dtype) {
    switch (dtype) {
    case DType::UInt8:
        return "u8";
    case DType::UInt16:
        return "u16";
    case DType::Int32:
        return "i32";
    case DType::Float32:
        return "f32";
    case DType::Bool:
        return "bool";
    }
    return "?";
}

std::optional<DType> parseDType(std::string_view text) {
    for (DType d : kAllDTypes) {
        if (text == dtypeName(d) || text == dtypeShortName(d))
            return d;
    }
    return std::nullopt;
}

int dtypeSize(DType dtype) {
    switch (dtype) {
    case DType::UInt8:
    case DType::Bool:
        return 1;
    case DType::UInt16:
        return 2;
    case DType::Int32:
    case DType::Float32:
        return 4;
    }
    return 0;
}

bool isIntegral(DType dtype) {
    return dtype == DType::UInt8 || dtype == DType::UInt16 || dtype == DType::Int32;
}

double unsignedMax(DType dtype) {
    switch (dtype) {
    case DType::UInt8:
        return 255.0;
    case DType::UInt16:
        return 65535.0;
    default:
        return 0.0;
    }
}

} // namespace segforge::core
