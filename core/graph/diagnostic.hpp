#pragma once

#include "graph/graph_edit.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace segforge::core {

enum class Severity { Error, Warning, Info };
std::string_view severityName(Severity severity);

/// Why a fix stands where it does in a diagnostic's list, best first. A
/// mismatch is traced to the layer where the two sizes (or types) diverged:
/// undoing that cause comes before rewiring, rewiring before a mechanical
/// patch of the symptom, and a patch that changes what the network computes
/// comes last and says what it costs.
enum class FixRank : std::uint8_t {
    Cause,      ///< undoes the layer (or setting) that caused the finding
    Rewire,     ///< wires an input from another node that has the right size/type
    Direct,     ///< the one natural repair of a local finding (a rename, an epsilon)
    Mechanical, ///< patches the symptom where it shows (crop, pad, resample, cast)
    Costly,     ///< changes the network's meaning (crops most of a tensor, skips levels)
};
std::string_view fixRankName(FixRank rank); ///< "cause", "rewire", "direct", …

/// A proposed repair: a graph edit the UI applies as one undoable step and the
/// CLI prints. It is computed against the graph that was checked.
struct FixIt {
    std::string description; ///< "Insert Rescale(scale=1/255) before 'conv1'"
    EditScript edits;
    FixRank rank = FixRank::Direct;
    /// Why it ranks there, in plain words: "'crop3' removes 1 row the skip
    /// keeps", "crops away 72% of 'enc2'"; may be empty for Direct.
    std::string reason{};
};

/// One finding of the checker, located on a node and (usually) a port.
struct Diagnostic {
    Severity severity = Severity::Error;
    std::string code;      ///< stable identifier, e.g. "dtype-mismatch"
    NodeId node = kNoNode; ///< kNoNode for graph-level findings
    std::string port;      ///< input or output port name, empty if node-level
    std::string message;   ///< plain words naming the shapes/dtypes involved
    std::vector<FixIt> fixes;
};

/// Stable diagnostic codes. Tools and tests match on these, never on prose.
namespace codes {
inline constexpr std::string_view kDTypeMismatch = "dtype-mismatch";
inline constexpr std::string_view kConcatShapeMismatch = "concat-shape-mismatch";
inline constexpr std::string_view kElementwiseShapeMismatch = "elementwise-shape-mismatch";
inline constexpr std::string_view kLossShapeMismatch = "loss-shape-mismatch";
inline constexpr std::string_view kLossChannelMismatch = "loss-channel-mismatch";
inline constexpr std::string_view kInputSizeIndivisible = "input-size-indivisible";
inline constexpr std::string_view kSpatialCollapse = "spatial-collapse";
inline constexpr std::string_view kRankMismatch = "rank-mismatch";
inline constexpr std::string_view kGraphCycle = "graph-cycle";
inline constexpr std::string_view kUnconnectedInput = "unconnected-input";
inline constexpr std::string_view kMultipleProducers = "multiple-producers";
inline constexpr std::string_view kDanglingEdge = "dangling-edge";
inline constexpr std::string_view kNoLoss = "no-loss";
inline constexpr std::string_view kBadAttribute = "bad-attribute";
inline constexpr std::string_view kDuplicateName = "duplicate-name";
inline constexpr std::string_view kDiceNoEpsilon = "dice-no-epsilon";
inline constexpr std::string_view kBatchNormSmallBatch = "batchnorm-small-batch";
/// The last batch of an epoch holds one sample and passes a BatchNormalization.
inline constexpr std::string_view kBatchNormPartialBatch = "batchnorm-partial-batch";
/// BatchNormalization sees one value per channel (N·H·W = 1): it outputs beta.
inline constexpr std::string_view kBatchNormSingleValue = "batchnorm-single-value";
/// The only loss is a Dice loss (info: pair it with cross-entropy).
inline constexpr std::string_view kDiceOnlyLoss = "dice-only-loss";
inline constexpr std::string_view kLossActivation = "loss-activation";
/// A Rescale that leaves integer pixels far above 1 (1/255 on 16-bit data).
inline constexpr std::string_view kRescaleRange = "rescale-range";
/// An imported Keras layer with no SegForge op (a KerasLayer placeholder).
inline constexpr std::string_view kUnsupportedLayer = "unsupported-layer";
/// An imported ONNX node with no SegForge op (an OnnxNode placeholder).
inline constexpr std::string_view kUnsupportedOp = "unsupported-op";
// Data diagnostics, from a probe of the Dataset node's folders (check/dataset_rules).
inline constexpr std::string_view kMaskValueRange = "mask-value-range";
inline constexpr std::string_view kMaskChannels = "mask-channels";
inline constexpr std::string_view kImageSizeMismatch = "image-size-mismatch";
inline constexpr std::string_view kDatasetEmpty = "dataset-empty";
inline constexpr std::string_view kUnpairedFile = "unpaired-file";
inline constexpr std::string_view kDataFileUnreadable = "data-file-unreadable";
/// A file whose header declares more pixels than the limit (a decompression bomb or a huge scan).
inline constexpr std::string_view kImageTooLarge = "image-too-large";
/// Images (or masks) that differ in channel count or bit depth: a batch holds one type.
inline constexpr std::string_view kMixedSampleTypes = "mixed-sample-types";
/// mask_mode 'binary' on masks that are not two levels (a ramp, class indices, noise).
inline constexpr std::string_view kMaskNotBinary = "mask-not-binary";
/// A palette PNG mask using indices past the end of its own palette.
inline constexpr std::string_view kMaskPaletteIndex = "mask-palette-index";
/// mask_mode 'palette' on colour masks it cannot number (over 256 colours, 16-bit).
inline constexpr std::string_view kMaskColours = "mask-colours";
/// For training: the data's types differ from those the Dataset's attributes
/// declare, which the engine compiles and the saved weights carry.
inline constexpr std::string_view kDatasetTypeMismatch = "dataset-type-mismatch";
} // namespace codes

} // namespace segforge::core
