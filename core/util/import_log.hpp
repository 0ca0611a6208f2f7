#pragma once

// The messages of an import (core/keras, core/onnx): errors, warnings and
// notes, each naming the file and where in it; a warning of one kind said of
// many layers or nodes is one line naming them.

#include <cstddef>
#include <string>
#include <vector>

namespace segforge::core {

/// A warning that may repeat on many layers: `kind` is what is said of each
/// (the setting and its value), `subject` the layer it is said of, `tail` the
/// reason. Two or more warnings of one kind become one line naming the layers.
struct WarningGroup {
    std::string kind;    ///< "kernel_regularizer L2(l2=0.0001) ignored"
    std::string subject; ///< "conv1"
    std::string tail{};  ///< ": the network is the same"
};

/// Messages of one import (Keras, ONNX), each "file:path: what" (or "file: what"). Warnings of one
/// kind said of several layers are aggregated into one line, in the place of the first
/// ("kernel_regularizer L2(l2=0.0001) ignored on 58 layers (conv1, conv2, conv3, … and 55 more)");
/// identical lines are kept once.
class ImportLog {
public:
    /// `subjects` is what a kind is said of in an aggregated line ("layers", "nodes").
    explicit ImportLog(std::string file, std::string subjects = "layers")
        : m_file(std::move(file))
        , m_subjects(std::move(subjects)) {}
    void warning(const std::string& path, const std::string& what);
    /// `what` is the line written when the kind is said of one layer only.
    void warning(const std::string& path, const std::string& what, WarningGroup group);
    /// Information, not a problem: "file: note: what".
    void note(const std::string& what);
    void error(const std::string& path, const std::string& what);
    /// The warnings, aggregated.
    std::vector<std::string> warnings() const;
    const std::vector<std::string>& errors() const { return m_errors; }
    /// How many layers the warnings of `kind` were said of so far.
    std::size_t countOf(const std::string& kind) const;
    /// Drops the warnings of `kind` (a later decision said it otherwise).
    void drop(const std::string& kind);

private:
    struct Entry {
        std::string line; ///< the full line, for one occurrence
        std::string kind; ///< "" = not grouped
        std::vector<std::string> subjects{};
        std::string tail{};
    };
    std::string m_file;
    std::string m_subjects;
    std::vector<Entry> m_warnings;
    std::vector<std::string> m_errors;
};

} // namespace segforge::core
