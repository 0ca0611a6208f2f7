#pragma once

#include "project/project.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace segforge::core {

struct UNetOptions {
    int depth = 4;    ///< number of poolings (1–6)
    int filters = 16; ///< filters of the first level; doubled at each level down
    int size = 128;   ///< input height and width; must be a multiple of 2^depth
    int channels = 3; ///< image channels
    int classes = 1;  ///< 1: binary (sigmoid + BCEDice); K > 1: softmax + sparse categorical
    bool batchnorm = false;
    /// How the decoder goes up a level: Conv2DTranspose 2×2/2; nearest
    /// UpSampling2D alone; or UpSampling2D then a 3×3 ReLU convolution halving
    /// the channels (the classic Keras U-Net).
    enum class Up { Upsample, Transpose, UpsampleConv } up = Up::Transpose;
};

/// "upsample", "transpose", "upsample_conv" (CLI and dialog spelling).
std::string_view upModeName(UNetOptions::Up up);
std::optional<UNetOptions::Up> parseUpMode(std::string_view text);

/// A complete, clean U-Net project: Dataset → Rescale → encoder/decoder with
/// skip connections → output → loss and metrics, laid out left to right as a U,
/// with one group per level (enc1…encN, bottleneck, decN…dec1).
/// Returns an error message for options that cannot make a valid network.
std::variant<Project, std::string> makeUNetProject(const UNetOptions& options);

} // namespace segforge::core
