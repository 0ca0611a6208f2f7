#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace segforge::core {

/// Element type of a tensor. Networks compute in Float32; UInt8, UInt16 (16-bit
/// images and masks) and Int32 only appear at the data boundary until an
/// explicit Cast or Rescale converts them. New values go at the end: the
/// numbering is not stored anywhere, but keeping it stable costs nothing.
enum class DType : std::uint8_t { UInt8, Int32, Float32, Bool, UInt16 };

/// Long name used in files and JSON: "uint8", "uint16", "int32", "float32", "bool".
std::string_view dtypeName(DType dtype);
/// Short name used on wires: "u8", "u16", "i32", "f32", "bool".
std::string_view dtypeShortName(DType dtype);
/// Accepts both the long and the short spelling.
std::optional<DType> parseDType(std::string_view text);
/// Size of one element in bytes.
int dtypeSize(DType dtype);
bool isIntegral(DType dtype);

inline constexpr DType kAllDTypes[] = {DType::UInt8, DType::UInt16, DType::Int32, DType::Float32,
                                       DType::Bool};
/// The largest value of an unsigned pixel type (255, 65535); 0 for the others.
double unsignedMax(DType dtype);

} // namespace segforge::core
