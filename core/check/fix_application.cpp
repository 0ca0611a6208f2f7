#include "check/fix_application.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace segforge::core {

namespace {

std::string nodeNameOf(const Graph& graph, NodeId id) {
    if (id == kNoNode)
        return {};
    const Node* n = graph.findNode(id);
    return n ? n->name : std::string();
}

/// "'dec3_concat'", or "the graph" for a graph-level request.
std::string placeOf(const FixRequest& request) {
    return request.node.empty() ? std::string("the graph") : strCat("'", request.node, "'");
}

bool matches(const Graph& graph, const Diagnostic& d, const FixRequest& request) {
    if (d.code != request.code)
        return false;
    if (request.node.empty())
        return d.node == kNoNode;
    return d.node != kNoNode && nodeNameOf(graph, d.node) == request.node;
}

/// Why no diagnostic matched: the node does not exist, or which codes it has.
std::string noMatchError(const Graph& graph, const CheckResult& result, const FixRequest& request) {
    bool nodeExists = request.node.empty();
    std::string closest;
    std::size_t closestDistance = 3; // suggest only names within two edits
    for (const auto& [id, node] : graph.nodes()) {
        if (node.name == request.node) {
            nodeExists = true;
            break;
        }
        if (std::size_t d = editDistance(node.name, request.node); d < closestDistance) {
            closestDistance = d;
            closest = node.name;
        }
    }
    if (!nodeExists) {
        std::string error = strCat("no node named '", request.node, "'");
        if (!closest.empty())
            error += strCat(" (did you mean '", closest, "'?)");
        return error;
    }
    std::set<std::string> codesThere;
    for (const Diagnostic& d : result.diagnostics) {
        const bool here = request.node.empty()
                              ? d.node == kNoNode
                              : d.node != kNoNode && nodeNameOf(graph, d.node) == request.node;
        if (here)
            codesThere.insert(d.code);
    }
    std::string error = strCat(placeOf(request), " has no finding '", request.code, "'");
    if (codesThere.empty())
        return error + strCat("; ", placeOf(request), " has no findings");
    error += "; its findings: ";
    bool first = true;
    for (const std::string& code : codesThere) {
        error += (first ? "" : ", ") + code;
        first = false;
    }
    return error;
}

/// What identifies a set of findings, so --first notices when it comes back.
std::vector<std::string> signatureOf(const CheckResult& result) {
    std::vector<std::string> signature;
    signature.reserve(result.diagnostics.size());
    for (const Diagnostic& d : result.diagnostics)
        signature.push_back(strCat(severityName(d.severity), '|', d.code, '|', d.node, '|', d.port,
                                   '|', d.message));
    std::sort(signature.begin(), signature.end());
    return signature;
}

/// The diagnostics --first may fix, in the order it tries them: errors, then
/// warnings, each in the checker's order; only those with a fix.
/// The findings whose top fix `--first` may apply: errors, then warnings. A
/// top fix that changes what the network computes (FixRank::Costly: it crops
/// away most of a tensor, resamples across levels) is never applied unasked.
std::vector<const Diagnostic*> candidatesOf(const CheckResult& result) {
    std::vector<const Diagnostic*> candidates;
    for (Severity severity : {Severity::Error, Severity::Warning})
        for (const Diagnostic& d : result.diagnostics)
            if (d.severity == severity && !d.fixes.empty() &&
                d.fixes.front().rank != FixRank::Costly)
                candidates.push_back(&d);
    return candidates;
}

/// "dtype-mismatch@conv1, no-loss@" — the errors left, for a stuck message.
std::string errorList(const Graph& graph, const CheckResult& result) {
    std::string list;
    for (const Diagnostic& d : result.diagnostics) {
        if (d.severity != Severity::Error)
            continue;
        if (!list.empty())
            list += ", ";
        list += strCat(d.code, '@', nodeNameOf(graph, d.node));
    }
    return list;
}

} // namespace

std::optional<FixRequest> parseFixRequest(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<FixRequest> {
        if (error)
            *error = strCat("bad fix '", text, "': ", why, " (expected CODE@NODE or CODE@NODE#K)");
        return std::nullopt;
    };
    const std::size_t at = text.find('@');
    if (at == std::string_view::npos)
        return fail("no '@' between the code and the node");
    FixRequest request;
    request.code = std::string(text.substr(0, at));
    if (request.code.empty())
        return fail("no diagnostic code before '@'");
    for (char c : request.code)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
            return fail(strCat("the code '", request.code, "' holds '", c, "'"));
    std::string_view rest = text.substr(at + 1);
    if (const std::size_t hash = rest.rfind('#'); hash != std::string_view::npos) {
        const std::string_view digits = rest.substr(hash + 1);
        if (digits.empty())
            return fail("no fix number after '#'");
        long long index = 0;
        for (char c : digits) {
            if (!std::isdigit(static_cast<unsigned char>(c)))
                return fail(strCat("the fix number '", digits, "' is not a whole number"));
            index = index * 10 + (c - '0');
            if (index > 1'000'000)
                return fail(strCat("the fix number '", digits, "' is too large"));
        }
        if (index < 1)
            return fail("fixes are numbered from 1");
        request.index = static_cast<int>(index);
        rest = rest.substr(0, hash);
    }
    request.node = std::string(rest);
    return request;
}

std::string toString(const FixRequest& request) {
    return strCat(request.code, '@', request.node, '#', request.index);
}

FixRequest fixRequestFor(const Graph& graph, const Diagnostic& diagnostic, int index) {
    return {diagnostic.code, nodeNameOf(graph, diagnostic.node), index};
}

FixOutcome applyFix(Graph& graph, const FixRequest& request, const CheckOptions& options) {
    FixOutcome outcome;
    const CheckResult result = checkGraph(graph, options);
    const Diagnostic* found = nullptr;
    for (const Diagnostic& d : result.diagnostics) {
        if (matches(graph, d, request)) {
            found = &d;
            break;
        }
    }
    if (!found) {
        outcome.error = noMatchError(graph, result, request);
        return outcome;
    }
    const std::size_t count = found->fixes.size();
    if (request.index < 1 || static_cast<std::size_t>(request.index) > count) {
        outcome.error = strCat("'", request.code, "' on ", placeOf(request));
        if (count == 0)
            outcome.error += " has no fix";
        else
            outcome.error += strCat(" has ", count, count == 1 ? " fix" : " fixes",
                                    "; there is no fix #", request.index);
        return outcome;
    }
    const FixIt& fix = found->fixes[static_cast<std::size_t>(request.index - 1)];
    EditOutcome edit = applyEdits(graph, fix.edits);
    if (!edit.ok) {
        outcome.error =
            strCat("fix #", request.index, " of '", request.code, "' on ", placeOf(request), " (",
                   fix.description, ") does not apply: ", edit.error);
        return outcome;
    }
    outcome.applied = true;
    outcome.description = fix.description;
    outcome.rank = fix.rank;
    outcome.reason = fix.reason;
    return outcome;
}

FirstFixesOutcome applyFirstFixes(Graph& graph, const CheckOptions& options, int maxRounds) {
    FirstFixesOutcome outcome;
    // For each set of findings met so far, the candidates (by position) already
    // tried from it. A fix after which the findings are the same as before, or
    // as at an earlier step, made no progress: it is undone and the next
    // candidate is tried, so no pair of fixes can undo each other for ever.
    std::map<std::vector<std::string>, std::set<std::size_t>> tried;
    CheckResult result = checkGraph(graph, options);
    int attempts = 0;
    while (true) {
        if (!result.hasErrors()) {
            outcome.clean = true;
            return outcome;
        }
        if (attempts >= maxRounds) {
            outcome.stuck = strCat("gave up after ", attempts,
                                   " attempts; errors left: ", errorList(graph, result));
            return outcome;
        }
        const std::vector<std::string> signature = signatureOf(result);
        std::set<std::size_t>& triedHere = tried[signature];
        const std::vector<const Diagnostic*> candidates = candidatesOf(result);
        std::size_t next = 0;
        while (next < candidates.size() && triedHere.count(next))
            ++next;
        if (next == candidates.size()) {
            const bool costlyLeft = std::any_of(
                result.diagnostics.begin(), result.diagnostics.end(), [](const Diagnostic& d) {
                    return !d.fixes.empty() && d.fixes.front().rank == FixRank::Costly;
                });
            outcome.stuck =
                candidates.empty()
                    ? strCat(costlyLeft ? "only costly fixes are left (they change what the "
                                          "network computes: apply one by name with --apply); "
                                        : "no finding has a fix; ",
                             "errors left: ", errorList(graph, result))
                    : strCat("no fix makes progress; errors left: ", errorList(graph, result));
            return outcome;
        }
        triedHere.insert(next);
        ++attempts;
        const Diagnostic& d = *candidates[next];
        const FixIt& fix = d.fixes.front();
        const FixRequest request = fixRequestFor(graph, d, 1);
        EditOutcome edit = applyEdits(graph, fix.edits);
        if (!edit.ok)
            continue; // unchanged graph, same findings: the next candidate
        CheckResult after = checkGraph(graph, options);
        if (tried.count(signatureOf(after))) {
            // Back where it was (or at an earlier step): undo, try the next one.
            EditOutcome undo = applyEdits(graph, edit.inverse);
            (void)undo; // the inverse of a script that just applied always applies
            continue;
        }
        outcome.applied.push_back({request, fix.description, fix.rank, fix.reason});
        result = std::move(after);
    }
}

} // namespace segforge::core
