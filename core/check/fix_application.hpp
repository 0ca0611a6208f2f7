#pragma once

// Applying the checker's fixes without the editor: `segforge-cli fix`, scripts,
// CI and the tests all go through these, so a fix that works there works in
// the app (which applies the same FixIt::edits as one undoable step).

#include "check/checker.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace segforge::core {

/// One fix to apply, as `segforge-cli fix --apply CODE@NODE[#K]` names it:
/// the diagnostic's code, the name of its node (empty for a graph-level
/// finding: `CODE@`), and the fix's 1-based position in that diagnostic's list.
struct FixRequest {
    std::string code;
    std::string node;
    int index = 1;
    friend bool operator==(const FixRequest&, const FixRequest&) = default;
};

/// Parses "concat-shape-mismatch@dec3_concat#2"; nullopt with `error` set when
/// malformed. Without "#K" the index is 1. The index is read after the last
/// '#', so a node name may hold '#' when the index is written out.
std::optional<FixRequest> parseFixRequest(std::string_view text, std::string* error = nullptr);
/// "concat-shape-mismatch@dec3_concat#2": what parseFixRequest reads back.
std::string toString(const FixRequest& request);
/// The request that names fix `index` (1-based) of `diagnostic` in `graph`:
/// what `check --json` prints as a fix's "apply".
FixRequest fixRequestFor(const Graph& graph, const Diagnostic& diagnostic, int index);

struct FixOutcome {
    bool applied = false;
    std::string description; ///< the fix's description, when applied
    FixRank rank = FixRank::Direct;
    std::string reason; ///< the fix's rank reason, when applied
    std::string error;  ///< why not: no such diagnostic, no fix #K, …
};

/// Checks `graph`, finds the diagnostic the request names (the first one with
/// that code on the node of that name) and applies its fix #index
/// (FixIt::edits, through applyEdits). The graph is unchanged when it fails,
/// and `error` says why: the codes the node does have, or how many fixes the
/// diagnostic has.
FixOutcome applyFix(Graph& graph, const FixRequest& request, const CheckOptions& options = {});

/// A fix that was applied: what named it (against the graph it was applied
/// to) and what it said of itself.
struct AppliedFix {
    FixRequest request;
    std::string description;
    FixRank rank = FixRank::Direct;
    std::string reason;
};

struct FirstFixesOutcome {
    std::vector<AppliedFix> applied; ///< in the order applied
    bool clean = false;              ///< no error left
    std::string stuck;               ///< why it stopped with errors left, if it did
};

/// `--first`: applies the top fix of the first diagnostic that has one (errors
/// before warnings), re-checks, and repeats until no error is left or it is
/// stuck: no diagnostic has a fix that applies (a costly top fix — one that
/// changes what the network computes — is never applied unasked: name it
/// with applyFix), the same findings come back
/// (a fix that changes nothing, or two fixes that undo each other), or
/// `maxRounds` fixes did not make the graph clean.
FirstFixesOutcome applyFirstFixes(Graph& graph, const CheckOptions& options = {},
                                  int maxRounds = 50);

} // namespace segforge::core
