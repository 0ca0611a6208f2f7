#pragma once

#include "engine/executor.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

/// Saves every parameter (trainable and moving statistics) as
/// "<node>/<param>" float32 tensors. Returns "" or an error message.
std::string saveWeights(Executor& executor, const std::filesystem::path& path);

/// The same with metadata of the caller's, and the key of each parameter
/// chosen by `keyOf` (nullopt leaves the parameter out), e.g. to write the
/// tensors under a graph's current node names.
std::string saveWeights(Executor& executor, const std::filesystem::path& path,
                        const std::map<std::string, std::string>& metadata,
                        const std::function<std::optional<std::string>(const Parameter&)>& keyOf);

/// Loads parameters by name. Every parameter of the graph must be present with
/// its shape; extra tensors in the file are an error too (a different network).
/// Nothing is changed unless the whole file fits. Returns "" or an error message.
std::string loadWeights(Executor& executor, const std::filesystem::path& path);

/// What a partial load took and left, by tensor name.
struct WeightsMatch {
    std::string error;                ///< the file could not be read: nothing was loaded
    std::vector<std::string> loaded;  ///< parameters set from the file
    std::vector<std::string> missing; ///< parameters the file lacks (left as they were)
    std::vector<std::string>
        mismatched; ///< "name: file 3×3×4×8, graph 3×3×4×16" (left as they were)
    std::vector<std::string> refused; ///< parameters `accept` turned down (left as they were)
    std::vector<std::string> unused;  ///< tensors in the file that are no parameter of the graph
    std::map<std::string, std::string> metadata; ///< the file's __metadata__
    bool complete() const {
        return error.empty() && missing.empty() && mismatched.empty() && refused.empty();
    }
};

/// Loads what fits: every parameter whose name is in the file with the same
/// shape (and that `accept`, if given, agrees to) is set; everything else is
/// reported and left as it was. Non-finite values are refused for the tensor.
/// `accept` sees the file's metadata, e.g. to compare what it says of a layer.
using WeightsFilter =
    std::function<bool(const Parameter&, const std::map<std::string, std::string>& metadata)>;
WeightsMatch loadMatchingWeights(Executor& executor, const std::filesystem::path& path,
                                 const WeightsFilter& accept = {});
/// The same for tensors already in memory (an ONNX import's weights), taken
/// from `tensors`; `metadata` is what `accept` sees. `error` stays empty.
WeightsMatch loadMatchingWeights(Executor& executor, std::map<std::string, Tensor> tensors,
                                 const std::map<std::string, std::string>& metadata = {},
                                 const WeightsFilter& accept = {});

/// "12 of 14 tensors loaded; not in the file: a/kernel; other shape: b/kernel: …"
std::string describeWeightsMatch(const WeightsMatch& match);

} // namespace segforge::core
