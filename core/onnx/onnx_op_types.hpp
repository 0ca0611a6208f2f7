#pragma once

// ONNX operator types whose text is also the name of a SegForge op (ONNX's
// Add is SegForge's Add, and so on). They are another vocabulary — what a
// file's NodeProto.op_type says — kept here, once, so that the importer's
// code names no SegForge op by a literal (op_registry_test exempts this file).

namespace segforge::core::interop::onnx_op {

inline constexpr char kAdd[] = "Add";
inline constexpr char kBatchNormalization[] = "BatchNormalization";
inline constexpr char kCast[] = "Cast";
inline constexpr char kDropout[] = "Dropout";
inline constexpr char kGroupNormalization[] = "GroupNormalization";

} // namespace segforge::core::interop::onnx_op
