#include "check/fix_verification.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <utility>

namespace segforge::core {
namespace {

/// Follow-up fixes tried to complete a fix whose own new node has an error.
constexpr std::size_t kMaxCompletions = 3;

using ErrorKey = std::pair<std::string, NodeId>;

std::set<ErrorKey> errorsOf(const CheckResult& r) {
    std::set<ErrorKey> errors;
    for (const Diagnostic& d : r.diagnostics) {
        if (d.severity == Severity::Error)
            errors.emplace(d.code, d.node);
    }
    return errors;
}

/// Findings at the place of `d` (code, node, port) at least as severe as it.
long countLike(const CheckResult& r, const Diagnostic& d) {
    return std::count_if(r.diagnostics.begin(), r.diagnostics.end(), [&d](const Diagnostic& e) {
        return e.code == d.code && e.node == d.node && e.port == d.port &&
               static_cast<int>(e.severity) <= static_cast<int>(d.severity);
    });
}

long errorCount(const CheckResult& r) {
    return static_cast<long>(r.count(Severity::Error));
}

/// A node the check could not reach: one of its inputs had no type (because
/// of an error upstream), or it sits on a cycle. Errors there were hidden.
bool wasHidden(const Graph& graph, const CheckResult& before, NodeId node) {
    if (std::find(before.order.begin(), before.order.end(), node) == before.order.end())
        return true;
    for (const Edge& e : graph.edges()) {
        if (e.to.node == node && !before.typeOf(e.from))
            return true;
    }
    return false;
}

/// The check of one graph that its fixes are verified against.
struct Verifier {
    const Graph& graph;
    const CheckResult& before;
    const CheckOptions& recheck;
    const OpRegistry& registry;
    std::set<ErrorKey> errors = errorsOf(before);

    struct Trial {
        FixVerdict verdict;
        Graph copy;
        CheckResult after;
        std::vector<const Diagnostic*> newErrors;
    };

    Trial run(const Diagnostic& diagnostic, const FixIt& fix) const {
        Trial t{{false, {}}, graph, {}, {}};
        if (fix.edits.empty()) {
            t.verdict.why = "changes nothing";
            return t;
        }
        if (EditOutcome edit = applyEdits(t.copy, fix.edits); !edit.ok) {
            t.verdict.why = "does not apply: " + edit.error;
            return t;
        }
        CheckOptions options = recheck;
        // The input-size diagnosis runs only to see whether its own finding is gone.
        options.diagnoseInputSize = diagnostic.code == codes::kInputSizeIndivisible;
        t.after = checkGraph(t.copy, options, registry);

        const bool gone =
            (diagnostic.node != kNoNode && !t.copy.hasNode(diagnostic.node)) ||
            countLike(t.after, diagnostic) < std::max(1L, countLike(before, diagnostic));
        if (!gone) {
            t.verdict.why = "leaves the finding";
            return t;
        }
        for (const Diagnostic& d : t.after.diagnostics) {
            if (d.severity != Severity::Error || errors.count({d.code, d.node}))
                continue;
            if (d.node != kNoNode && graph.hasNode(d.node) && wasHidden(graph, before, d.node))
                continue;
            t.newErrors.push_back(&d);
        }
        if (!t.newErrors.empty()) {
            t.verdict.why =
                "new error " + t.newErrors.front()->code + ": " + t.newErrors.front()->message;
            return t;
        }
        t.verdict.ok = true;
        return t;
    }

    /// The fix as offered: itself when it works; when its only fault is an
    /// error on a node it adds (a loss wired to a uint8 mask), itself followed
    /// by the first fix of that error that makes the whole work; else nothing.
    std::optional<std::pair<FixIt, long>> accepted(const Diagnostic& diagnostic,
                                                   const FixIt& fix) const {
        Trial t = run(diagnostic, fix);
        if (t.verdict.ok)
            return std::pair{fix, errorCount(t.after)};
        const bool onAddedNodes =
            !t.newErrors.empty() &&
            std::all_of(t.newErrors.begin(), t.newErrors.end(), [this](const Diagnostic* d) {
                return d->node != kNoNode && !graph.hasNode(d->node);
            });
        if (!onAddedNodes)
            return std::nullopt;
        std::vector<FixIt> followUps = t.newErrors.front()->fixes;
        std::stable_sort(followUps.begin(), followUps.end(), [](const FixIt& a, const FixIt& b) {
            return static_cast<int>(a.rank) < static_cast<int>(b.rank);
        });
        if (followUps.size() > kMaxCompletions)
            followUps.resize(kMaxCompletions);
        for (const FixIt& then : followUps) {
            FixIt whole = fix;
            whole.edits.insert(whole.edits.end(), then.edits.begin(), then.edits.end());
            std::string next = then.description;
            if (!next.empty())
                next[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(next[0])));
            whole.description = strCat(fix.description, ", then ", next);
            if (Trial w = run(diagnostic, whole); w.verdict.ok)
                return std::pair{std::move(whole), errorCount(w.after)};
        }
        return std::nullopt;
    }
};

} // namespace

CheckOptions recheckOptions(const CheckOptions& options) {
    CheckOptions recheck = options;
    recheck.diagnoseInputSize = false;
    recheck.verifyFixes = false;
    return recheck;
}

FixVerdict verifyFix(const Graph& graph, const CheckResult& before, const Diagnostic& diagnostic,
                     const FixIt& fix, const CheckOptions& recheck, const OpRegistry& registry) {
    const Verifier verifier{graph, before, recheck, registry};
    return verifier.run(diagnostic, fix).verdict;
}

void orderFixesByRank(CheckResult& result) {
    for (Diagnostic& d : result.diagnostics) {
        std::stable_sort(d.fixes.begin(), d.fixes.end(), [](const FixIt& a, const FixIt& b) {
            return static_cast<int>(a.rank) < static_cast<int>(b.rank);
        });
    }
}

void verifyAndRankFixes(const Graph& graph, const CheckOptions& options, const OpRegistry& registry,
                        CheckResult& result) {
    const bool anyFix = std::any_of(result.diagnostics.begin(), result.diagnostics.end(),
                                    [](const Diagnostic& d) { return !d.fixes.empty(); });
    if (!anyFix)
        return; // nothing to verify, nothing to order
    const CheckOptions recheck = recheckOptions(options);
    const Verifier verifier{graph, result, recheck, registry};
    for (Diagnostic& d : result.diagnostics) {
        std::vector<std::pair<FixIt, long>> kept;
        long fewest = -1; // errors left by the best fix that is not a rewire
        for (const FixIt& fix : d.fixes) {
            if (auto ok = verifier.accepted(d, fix)) {
                if (ok->first.rank != FixRank::Rewire && (fewest < 0 || ok->second < fewest))
                    fewest = ok->second;
                kept.push_back(std::move(*ok));
            }
        }
        d.fixes.clear();
        for (auto& [fix, errorsLeft] : kept) {
            // A rewire moves a skip to another level; when the decoder behind
            // it then fails where another fix leaves it whole, the skip was not
            // what was wrong (an up-sampling was missing, say).
            if (fix.rank == FixRank::Rewire && fewest >= 0 && errorsLeft > fewest)
                continue;
            d.fixes.push_back(std::move(fix));
        }
    }
    orderFixesByRank(result);
}

} // namespace segforge::core
