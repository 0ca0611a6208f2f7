#include "onnx/onnx_reader.hpp"

#include <onnx/onnx_pb.h>

namespace segforge::core::interop {

std::optional<OnnxFile> readOnnx(std::string_view bytes, const std::string& fileLabel,
                                 std::string& error, const OnnxReadLimits&,
                                 const std::optional<std::filesystem::path>&) {
    onnx::ModelProto model;
    if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        error = fileLabel + ": not an ONNX model";
        return std::nullopt;
    }
    OnnxFile file;
    file.irVersion = model.ir_version();
    return file;
}

} // namespace segforge::core::interop
