// The failure corpus (tests/data/failure_corpus, format in its README.md):
// real mistakes from public issue trackers, each rebuilt as a small graph
// (or Keras model) with the sizes and data of the report, and what a user
// needs to hear about it. Every case is checked as it is; its expected codes
// and first fix are asserted; and every fix the checker offers for it is
// applied to a copy and re-checked: no fix may introduce an error that was not
// there before.

#include "check/checker.hpp"
#include "data/data_probe.hpp"
#include "data_fixtures.hpp"
#include "graph/graph_edit.hpp"
#include "keras/keras_import.hpp"
#include "ops/op_helpers.hpp"
#include "project/project_file.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

using namespace segforge::core;
using namespace segforge::core::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(SEGFORGE_TEST_DATA) / "failure_corpus";

struct CorpusCase {
    std::string name; ///< the file's stem, also the test's name
    fs::path file;
};

// gtest prints the parameter of a failing test: the case's name.
void PrintTo(const CorpusCase& c, std::ostream* os) {
    *os << c.name;
}

std::vector<CorpusCase> corpusCases() {
    std::vector<CorpusCase> cases;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(kCorpus, ec)) {
        if (entry.path().extension() == ".json")
            cases.push_back({entry.path().stem().string(), entry.path()});
    }
    std::sort(cases.begin(), cases.end(),
              [](const CorpusCase& a, const CorpusCase& b) { return a.name < b.name; });
    return cases;
}

json readJson(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
}

std::string pendingOf(const json& j) {
    return j.is_object() && j.contains("pending") ? j["pending"].get<std::string>() : std::string();
}

/// Writes the case's "data" as image/mask pairs: every mask holds every listed
/// value (in vertical stripes), so a probe of any sample sees them all.
void writeData(const json& data, const TempDir& dir) {
    const int pairs = data.value("pairs", 4);
    const int h = data.value("height", 16);
    const int w = data.value("width", 16);
    const int channels = data.value("image_channels", 3);
    const bool deep = data.value("mask_depth", 8) == 16;
    const auto values = data.value("mask_values", std::vector<int>{0, 255});
    const fs::path images = dir.dir("images");
    const fs::path masks = dir.dir("masks");
    for (int i = 0; i < pairs; ++i) {
        const std::string name = "s" + std::to_string(10000 + i) + ".png";
        cv::Mat image = patternImage(h, w, i);
        if (channels == 1) {
            cv::Mat grey;
            cv::extractChannel(image, grey, 0);
            image = grey;
        }
        writeOrFail(images / name, image);
        cv::Mat mask(h, w, deep ? CV_16UC1 : CV_8UC1, cv::Scalar(0));
        for (int x = 0; x < w; ++x) {
            const int v = values[static_cast<std::size_t>(x) % values.size()];
            mask.col(x).setTo(cv::Scalar(v));
        }
        writeOrFail(masks / name, mask);
    }
}

/// The case's dataset, written once per run (both tests of a case probe it).
std::shared_ptr<const TempDir> writtenData(const std::string& name, const json& data) {
    static std::map<std::string, std::shared_ptr<const TempDir>> written;
    auto& dir = written[name];
    if (!dir) {
        auto fresh = std::make_shared<TempDir>();
        writeData(data, *fresh);
        dir = std::move(fresh);
    }
    return dir;
}

/// One case, loaded: its document, the graph to check and how to check it.
struct LoadedCase {
    json doc;
    std::optional<Graph> graph;
    std::vector<std::string> loadErrors;
    CheckOptions options;
    std::shared_ptr<const TempDir> data; ///< the written dataset
};

LoadedCase loadCase(const CorpusCase& c) {
    LoadedCase out;
    out.doc = readJson(c.file);
    if (out.doc.is_discarded() || !out.doc.is_object()) {
        out.loadErrors.push_back(c.file.string() + ": not a JSON object");
        return out;
    }
    const std::string label = c.name + ".json";
    if (out.doc.contains("project")) {
        ProjectLoad load = parseProject(out.doc["project"].dump(), label);
        out.loadErrors = load.errors;
        if (load.project) {
            out.graph = load.project->graph;
            out.options.validationSplit = load.project->training.validationSplit;
        }
    } else if (out.doc.contains("keras")) {
        KerasImport import = importKerasJson(out.doc["keras"].dump(), label);
        out.loadErrors = import.errors;
        if (import.project)
            out.graph = import.project->graph;
    } else {
        out.loadErrors.push_back(label + ": neither 'project' nor 'keras'");
    }
    if (const json check = out.doc.value("check", json::object()); check.is_object())
        out.options.requireLoss = check.value("require_loss", true);
    if (out.graph && out.doc.contains("data")) {
        out.data = writtenData(c.name, out.doc["data"]);
        for (const auto& [id, node] : out.graph->nodes()) {
            if (ops::traitsOf(node).readsDataset) {
                out.options.dataProbes[id] =
                    probeDataset({out.data->path() / "images", out.data->path() / "masks"});
                break;
            }
        }
    }
    return out;
}

std::string nodeName(const Graph& g, NodeId id) {
    if (id == kNoNode)
        return "";
    const Node* n = g.findNode(id);
    return n ? n->name : "#" + std::to_string(id);
}

std::string listDiagnostics(const Graph& g, const CheckResult& r) {
    std::string out;
    for (const Diagnostic& d : r.diagnostics) {
        out += "  " + std::string(severityName(d.severity)) + " " + d.code + "@" +
               nodeName(g, d.node) + ": " + d.message + "\n";
        for (std::size_t k = 0; k < d.fixes.size(); ++k)
            out += "    #" + std::to_string(k + 1) + " [" +
                   std::string(fixRankName(d.fixes[k].rank)) + "] " + d.fixes[k].description + "\n";
    }
    return out;
}

bool containsAny(const std::string& text, const json& wanted) {
    if (wanted.is_string())
        return text.find(wanted.get<std::string>()) != std::string::npos;
    for (const auto& w : wanted) {
        if (text.find(w.get<std::string>()) != std::string::npos)
            return true;
    }
    return wanted.empty();
}

/// The codes an expectation names: "code", or a list of codes of which any will do.
std::vector<std::string> codesOf(const json& codes) {
    if (codes.is_string())
        return {codes.get<std::string>()};
    return codes.get<std::vector<std::string>>();
}

/// The first diagnostic with one of `codes`, in the checker's order.
const Diagnostic* firstWith(const CheckResult& r, const std::vector<std::string>& codes) {
    for (const Diagnostic& d : r.diagnostics) {
        if (std::find(codes.begin(), codes.end(), d.code) != codes.end())
            return &d;
    }
    return nullptr;
}

/// Why `expect` (an expect_first_fix object) does not hold; empty when it does.
std::string firstFixMismatch(const Graph& g, const CheckResult& r, const json& expect) {
    const Diagnostic* found = firstWith(r, codesOf(expect.at("code")));
    if (!found)
        return "no " + expect["code"].dump() + " diagnostic";
    const Diagnostic& d = *found;
    const std::string& code = d.code;
    if (d.fixes.empty())
        return code + "@" + nodeName(g, d.node) + " offers no fix";
    const FixIt& first = d.fixes.front();
    std::string why;
    if (expect.contains("rank") &&
        std::string(fixRankName(first.rank)) != expect["rank"].get<std::string>())
        why += "rank is '" + std::string(fixRankName(first.rank)) + "', not '" +
               expect["rank"].get<std::string>() + "'; ";
    if (expect.contains("contains") && !containsAny(first.description, expect["contains"]))
        why += "description does not contain " + expect["contains"].dump() + "; ";
    if (!why.empty())
        why = "first fix of " + code + "@" + nodeName(g, d.node) + " (\"" + first.description +
              "\"): " + why;
    return why;
}

using ErrorKey = std::pair<std::string, NodeId>;

std::set<ErrorKey> errorsOf(const CheckResult& r) {
    std::set<ErrorKey> keys;
    for (const Diagnostic& d : r.diagnostics) {
        if (d.severity == Severity::Error)
            keys.insert({d.code, d.node});
    }
    return keys;
}

/// Nodes the check could judge: every input it has carries a known type. A
/// node behind an error gets unknown inputs and so no findings of its own; an
/// error that shows there once the error before it is fixed was latent, not
/// introduced by the fix.
std::set<NodeId> judgedNodes(const Graph& g, const CheckResult& r) {
    std::set<NodeId> judged(r.order.begin(), r.order.end());
    for (const Edge& e : g.edges()) {
        if (!r.typeOf(e.from))
            judged.erase(e.to.node);
    }
    return judged;
}

class FailureCorpus : public ::testing::TestWithParam<CorpusCase> {};

} // namespace

// Every case names the real report it comes from and says what it expects.
TEST(FailureCorpusFiles, EveryCaseNamesItsSourceAndExpectsSomething) {
    const auto cases = corpusCases();
    EXPECT_GE(cases.size(), 20u) << "the corpus lives in " << kCorpus;
    for (const CorpusCase& c : cases) {
        SCOPED_TRACE(c.name);
        const json doc = readJson(c.file);
        ASSERT_TRUE(doc.is_object());
        ASSERT_TRUE(doc.contains("source") && doc["source"].is_object());
        const std::string url = doc["source"].value("url", "");
        EXPECT_EQ(url.rfind("https://", 0), 0u) << url;
        EXPECT_FALSE(doc["source"].value("title", "").empty());
        EXPECT_FALSE(doc.value("summary", "").empty());
        EXPECT_FALSE(doc.value("covers", "").empty());
        EXPECT_NE(doc.contains("project"), doc.contains("keras")) << "exactly one graph";
        EXPECT_TRUE(doc.contains("expect_codes") && doc["expect_codes"].is_array());
        EXPECT_TRUE(!doc["expect_codes"].empty() || doc.contains("expect_first_fix") ||
                    doc.value("expect_no_errors", false))
            << "a case must expect something";
        for (char ch : c.name)
            EXPECT_TRUE(std::islower(static_cast<unsigned char>(ch)) ||
                        std::isdigit(static_cast<unsigned char>(ch)) || ch == '_')
                << "file names are snake_case (they name the tests): " << c.name;
    }
}

TEST_P(FailureCorpus, ReportsWhatTheUserNeeds) {
    const CorpusCase& c = GetParam();
    LoadedCase lc = loadCase(c);
    const std::string casePending = pendingOf(lc.doc);
    std::string loadText;
    for (const auto& e : lc.loadErrors)
        loadText += e + "\n";
    if (!lc.graph) {
        if (!casePending.empty())
            GTEST_SKIP() << "pending: " << casePending << "\n" << loadText;
        FAIL() << "case " << c.name << " does not load:\n" << loadText;
    }
    const Graph& graph = *lc.graph;
    const CheckResult r = checkGraph(graph, lc.options);
    const std::string all = listDiagnostics(graph, r);
    if (std::getenv("SEGFORGE_CORPUS_DUMP")) // what each case reports, for writing expectations
        std::cout << "[ corpus   ] " << c.name << "\n" << all;
    SCOPED_TRACE("case " + c.name + ", " + lc.doc["source"].value("url", "") + "\n" + all);

    std::vector<std::string> pending; // expectations not met yet, with the part they wait for
    auto expectation = [&](bool met, const std::string& what, const std::string& waitsFor) {
        if (met) {
            if (!waitsFor.empty())
                std::cout << "[ corpus   ] " << c.name << ": '" << what
                          << "' now holds; remove its \"pending\"\n";
            return;
        }
        if (waitsFor.empty())
            ADD_FAILURE() << what;
        else
            pending.push_back(what + " — waits for " + waitsFor);
    };

    if (lc.doc.value("expect_no_errors", false))
        expectation(!r.hasErrors(), "no errors", casePending);
    const json types = lc.doc.contains("expect_types") ? lc.doc["expect_types"] : json::object();
    for (const auto& [name, want] : types.items()) {
        const Node* n = graph.findNodeByName(name);
        const auto type = n ? r.typeOf({n->id, "output"}) : std::nullopt;
        const std::string have = type ? type->toString() : n ? "?" : "(no node)";
        expectation(have == want.get<std::string>(),
                    "'" + name + "' is " + want.get<std::string>() + " (it is " + have + ")",
                    casePending);
    }
    // What the wires show: symbolic sizes where the input size is free.
    const json labels = lc.doc.contains("expect_labels") ? lc.doc["expect_labels"] : json::object();
    for (const auto& [name, want] : labels.items()) {
        const Node* n = graph.findNodeByName(name);
        const std::string have = n ? r.label({n->id, "output"}) : "(no node)";
        const std::string shows =
            want.is_string() ? want.get<std::string>() : want.value("shows", "");
        expectation(have == shows, "'" + name + "' shows " + shows + " (it shows " + have + ")",
                    want.is_string() ? casePending : pendingOf(want));
    }
    for (const json& e : lc.doc.value("expect_codes", json::array())) {
        const json codes = e.is_string() ? e : e.at("code");
        expectation(firstWith(r, codesOf(codes)) != nullptr, "reports " + codes.dump(),
                    pendingOf(e));
    }
    if (lc.doc.contains("expect_first_fix")) {
        const json& f = lc.doc["expect_first_fix"];
        const std::string why = firstFixMismatch(graph, r, f);
        expectation(why.empty(), why.empty() ? "first fix " + f.dump() : why, pendingOf(f));
    }
    if (!pending.empty() && !HasFailure()) {
        std::string text;
        for (const auto& p : pending)
            text += "\n  " + p;
        GTEST_SKIP() << "pending:" << text;
    }
}

// An error counts as new when its code and node were not reported before and
// the node could be judged before (or did not exist): fixing the first of two
// stacked mismatches reveals the second, which was there all along.
TEST_P(FailureCorpus, NoOfferedFixIntroducesANewError) {
    const CorpusCase& c = GetParam();
    LoadedCase lc = loadCase(c);
    if (!lc.graph)
        GTEST_SKIP() << "the case does not load (yet): " << pendingOf(lc.doc);
    const Graph& graph = *lc.graph;
    const CheckResult before = checkGraph(graph, lc.options);
    const std::set<ErrorKey> old = errorsOf(before);
    const std::set<NodeId> judged = judgedNodes(graph, before);
    int applied = 0;
    for (const Diagnostic& d : before.diagnostics) {
        for (std::size_t k = 0; k < d.fixes.size(); ++k) {
            const FixIt& fix = d.fixes[k];
            const std::string which = "case " + c.name + ", " + d.code + "@" +
                                      nodeName(graph, d.node) + " fix #" + std::to_string(k + 1) +
                                      " \"" + fix.description + "\"";
            Graph copy = graph;
            const EditOutcome outcome = applyEdits(copy, fix.edits);
            if (!outcome.ok) {
                ADD_FAILURE() << which << " cannot be applied: " << outcome.error;
                continue;
            }
            ++applied;
            const CheckResult after = checkGraph(copy, lc.options);
            for (const Diagnostic& e : after.diagnostics) {
                const bool couldShowBefore = !graph.findNode(e.node) || judged.count(e.node);
                if (e.severity == Severity::Error && !old.count({e.code, e.node}) &&
                    couldShowBefore)
                    ADD_FAILURE() << which << " introduces " << e.code << "@"
                                  << nodeName(copy, e.node) << ": " << e.message;
            }
            const auto& remaining = after.diagnostics;
            EXPECT_TRUE(std::none_of(
                remaining.begin(), remaining.end(),
                [&](const Diagnostic& e) { return e.code == d.code && e.node == d.node; }))
                << which << " leaves its own finding";
        }
    }
    RecordProperty("fixes_applied", applied);
}

// Fixes are ordered by rank, best first, and every fix but a direct one says
// why it stands where it does (what it undoes, what it costs).
TEST_P(FailureCorpus, FixesComeInRankOrderAndSayWhy) {
    const CorpusCase& c = GetParam();
    LoadedCase lc = loadCase(c);
    if (!lc.graph)
        GTEST_SKIP() << "the case does not load (yet): " << pendingOf(lc.doc);
    const Graph& graph = *lc.graph;
    const CheckResult r = checkGraph(graph, lc.options);
    for (const Diagnostic& d : r.diagnostics) {
        const std::string where = "case " + c.name + ", " + d.code + "@" + nodeName(graph, d.node);
        for (std::size_t k = 0; k < d.fixes.size(); ++k) {
            const FixIt& fix = d.fixes[k];
            if (k > 0) {
                EXPECT_LE(static_cast<int>(d.fixes[k - 1].rank), static_cast<int>(fix.rank))
                    << where << ": fix #" << k + 1 << " (" << fixRankName(fix.rank)
                    << ") comes after a " << fixRankName(d.fixes[k - 1].rank) << " fix";
            }
            if (fix.rank != FixRank::Direct) {
                EXPECT_FALSE(fix.reason.empty())
                    << where << ": the " << fixRankName(fix.rank) << " fix \"" << fix.description
                    << "\" does not say why";
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, FailureCorpus, ::testing::ValuesIn(corpusCases()),
                         [](const ::testing::TestParamInfo<CorpusCase>& param) {
                             return param.param.name;
                         });
