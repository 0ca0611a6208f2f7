#pragma once

#include "project/project.hpp"

#include <string>
#include <variant>

namespace segforge::core {

struct UNetOptions {
    int depth = 4;       ///< number of poolings (1–6)
    int filters = 16;    ///< filters of the first level; doubled at each level down
    int size = 128;      ///< input height and width; must be a multiple of 2^depth
    int channels = 3;    ///< image channels
    int classes = 1;     ///< 1: binary (sigmoid + BCEDice); K > 1: softmax + sparse categorical
    bool batchnorm = false;
    enum class Up { Upsample, Transpose } up = Up::Transpose;
};

/// A complete, clean U-Net project: Dataset → Rescale → encoder/decoder with
/// skip connections → output → loss and metrics, laid out left to right as a U.
/// Returns an error message for options that cannot make a valid network.
std::variant<Project, std::string> makeUNetProject(const UNetOptions& options);

} // namespace segforge::core
