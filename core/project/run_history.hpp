#pragma once

// What the plots of a training run show, kept with the saved weights so that
// a reopened project shows the curves that led to its weights. Stored as one
// compact JSON text (columns, not rows: a 100,000-step run is about 2 MB).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

struct RunHistory {
    struct Step {
        std::int64_t step = 0; ///< 1-based optimizer step
        double loss = 0;
        double learningRate = 0;
        friend bool operator==(const Step&, const Step&) = default;
    };
    struct Epoch {
        int epoch = 0; ///< 0-based
        std::int64_t step = 0;
        double trainLoss = 0;
        double valLoss = 0; ///< NaN when there was no validation data
        std::map<std::string, double> metrics;
        friend bool operator==(const Epoch&, const Epoch&) = default;
    };
    std::vector<Step> steps;
    std::vector<Epoch> epochs;

    bool empty() const { return steps.empty() && epochs.empty(); }
    /// Drops what lies beyond `step` (a run continued from an earlier checkpoint).
    void truncateAfter(std::int64_t step);
};

/// {"steps": [...], "loss": [...], "lr": [...], "epochs": [{...}]}; NaN as null.
std::string runHistoryToJson(const RunHistory& history);
/// Parses what runHistoryToJson wrote; nullopt and `error` set for anything else.
std::optional<RunHistory> runHistoryFromJson(const std::string& text, std::string& error);

} // namespace segforge::core
