#pragma once

// ONNX import: a model exported by torch.onnx.export (opsets 11–17), NCHW,
// becomes an NHWC SegForge project with its weights in SegForge's layouts
// (Conv OIHW → kernel HWIO, ConvTranspose IOHW → kernel HW·out·in), laid out
// as a U where it is one. What has no SegForge op becomes an OnnxNode
// placeholder (the checker reports unsupported-op naming the ONNX op and
// node) and the import goes on. Shape-only chains (Constant, Shape, Gather,
// Unsqueeze, Concat, arithmetic on sizes) are folded to constants.
//
// Weights come from the file's initializers, or — matched through the
// initializer names, which torch.onnx.export takes from the state_dict — from
// a PyTorch state_dict saved as safetensors (OnnxImportOptions::stateDict).
//
// Like the Keras import, the project has no loss (ONNX holds the inference
// network only): no-loss is a warning when the ONNX file itself is checked.

#include "onnx/onnx_reader.hpp"
#include "project/project.hpp"
#include "tensor/tensor.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace segforge::core {

struct OnnxImportOptions {
    /// PyTorch tensors by state_dict name (e.g. "enc1.0.weight", OIHW), used in
    /// place of the initializers (or graph inputs, export_params=False) of the
    /// same name; shapes must match.
    const std::map<std::string, Tensor>* stateDict = nullptr;
    std::string stateDictLabel; ///< the state_dict's file, for messages
};

/// Outcome of an import. `errors` are fatal (no project). `warnings` say what
/// was approximated, left as a placeholder, or not matched, each reading
/// `file: node 'NAME' (OP): what`; what the import did on purpose is a line
/// `file: note: what` (as KerasImport).
struct OnnxImport {
    std::optional<Project> project;
    /// The parameters, "<node>/<param>" in SegForge's layouts (as
    /// NAME.weights.safetensors holds them).
    std::map<std::string, Tensor> weights;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
    int placeholders = 0;                     ///< OnnxNode placeholders created
    std::size_t stateDictMatched = 0;         ///< state_dict tensors used
    std::vector<std::string> stateDictUnused; ///< state_dict names no initializer has
    bool ok() const { return project.has_value(); }
};

/// Imports a file already read. Never throws for bad input.
OnnxImport importOnnx(const interop::OnnxFile& file, const std::string& fileLabel,
                      const OnnxImportOptions& options = {});
/// Reads and imports a .onnx file. Never throws for bad input.
OnnxImport importOnnxFile(const std::filesystem::path& path, const OnnxImportOptions& options = {});

/// True when the file looks like an ONNX model by content. Reads its start.
bool looksLikeOnnxFile(const std::filesystem::path& path);

} // namespace segforge::core
