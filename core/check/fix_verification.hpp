#pragma once

// A fix is offered only if it works: applied to a copy of the graph and
// re-checked, it must remove its finding and create no new error.

#include "check/checker.hpp"

#include <string>

namespace segforge::core {

struct FixVerdict {
    bool ok = false;
    std::string why; ///< when not ok: "does not apply: …", "leaves the finding", "new error …"
};

/// Applies `fix` to a copy of `graph` (which `before` is the check of) and
/// re-checks it with `recheck`. The finding is gone when fewer diagnostics with
/// its code, node and port, at least as severe, are left (an error that became
/// a warning is resolved), or its node is gone. input-size-indivisible is
/// re-checked with the input-size diagnosis, every other finding without. A
/// new error is one whose code and node were not reported before, at a node
/// that was checked before: an error behind the finding (at a node whose input
/// had no type because of it) is revealed, not made.
FixVerdict verifyFix(const Graph& graph, const CheckResult& before, const Diagnostic& diagnostic,
                     const FixIt& fix, const CheckOptions& recheck,
                     const OpRegistry& registry = OpRegistry::builtin());

/// The options a fix is verified with: `options` without the input-size sweep
/// and without verifying the fixes of the re-check.
CheckOptions recheckOptions(const CheckOptions& options);

/// Orders each diagnostic's fixes by FixRank (stable: equal ranks keep their order).
void orderFixesByRank(CheckResult& result);

/// Drops every fix of `result` that verifyFix rejects, then orders them by
/// rank. A fix whose only new errors are on nodes it adds (a loss wired to a
/// mask it cannot read) is completed with the first fix of that error that
/// makes the whole pass ("…, then insert Rescale…"), or dropped. A rewire that
/// leaves more errors in the graph than another verified fix of the finding is
/// dropped: the skip's level was not the mistake.
void verifyAndRankFixes(const Graph& graph, const CheckOptions& options, const OpRegistry& registry,
                        CheckResult& result);

} // namespace segforge::core
