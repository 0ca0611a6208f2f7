// Loops over the op registry: every registered op has each part an op must
// have (a shape case, a gradient case or a stated reason why it has none), its
// traits agree with what it does, and no file in core/ outside the op's own
// spells its name. Each interop table appends its own loop below.

#include "engine/flop_count.hpp"
#include "export/python_script_export.hpp"
#include "export/python_sources.hpp"
#include "keras/keras_import.hpp"
#include "keras/keras_json_export.hpp"
#include "keras/keras_layer_map.hpp"
#include "kernels/activation_math.hpp"
#include "op_gradient_cases.hpp"
#include "op_shape_cases.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_registry.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

std::set<std::string> registeredNames() {
    std::set<std::string> names;
    for (const OpSchema& s : OpRegistry::builtin().all())
        names.insert(s.name);
    return names;
}

/// The op's first output type for a shape case (nullopt when it has none).
std::optional<TensorType> outputOf(const ShapeCase& c) {
    CheckResult r;
    NodeId node = kNoNode;
    runShapeCase(c, r, node);
    const auto& nc = r.nodes.at(node);
    return nc.outputs.empty() ? std::nullopt : nc.outputs[0];
}

std::vector<ParamSpec> paramsOf(const ShapeCase& c) {
    CheckResult r;
    NodeId node = kNoNode;
    runShapeCase(c, r, node);
    return r.nodes.at(node).params;
}

/// The op's valid shape cases (those that expect no error).
std::vector<ShapeCase> validCases(const std::string& op) {
    std::vector<ShapeCase> out;
    for (const ShapeCase& c : shapeCases())
        if (c.op == op && c.expectedCode.empty())
            out.push_back(c);
    return out;
}

/// The op's first valid shape case with `attrs` set on top of its own.
std::optional<ShapeCase> validCaseWith(const std::string& op, const AttrMap& attrs) {
    auto cases = validCases(op);
    if (cases.empty())
        return std::nullopt;
    ShapeCase c = cases.front();
    for (const auto& [k, v] : attrs)
        c.attrs[k] = v;
    return c;
}

bool hasRunningStatistics(const std::vector<ParamSpec>& params) {
    return std::any_of(params.begin(), params.end(),
                       [](const ParamSpec& p) { return !p.trainable; });
}

} // namespace

TEST(OpRegistry, EveryOpHasAValidShapeCase) {
    std::set<std::string> covered;
    for (const ShapeCase& c : shapeCases()) {
        if (c.expectedCode.empty())
            covered.insert(c.op);
    }
    const auto& exempt = opsWithoutValidShapeCase();
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (exempt.count(s.name)) {
            EXPECT_FALSE(covered.count(s.name))
                << s.name << " has a valid shape case: drop it from opsWithoutValidShapeCase()";
            continue;
        }
        EXPECT_TRUE(covered.count(s.name)) << "op " << s.name << " has no shape test case";
    }
}

TEST(OpRegistry, CaseTablesNameRegisteredOps) {
    const std::set<std::string> names = registeredNames();
    for (const ShapeCase& c : shapeCases())
        EXPECT_TRUE(names.count(c.op)) << "shape case of unknown op " << c.op;
    for (const GradCase& c : gradCases())
        EXPECT_TRUE(names.count(c.op)) << "gradient case " << c.name << " of unknown op " << c.op;
    for (const auto& [op, reason] : opsWithoutValidShapeCase()) {
        EXPECT_TRUE(names.count(op)) << "opsWithoutValidShapeCase() names unknown op " << op;
        EXPECT_FALSE(reason.empty()) << op;
    }
    for (const auto& [op, reason] : opsWithoutGradientCase()) {
        EXPECT_TRUE(names.count(op)) << "opsWithoutGradientCase() names unknown op " << op;
        EXPECT_FALSE(reason.empty()) << op;
    }
}

// Every op that can pass a gradient has at least one case in the gradient
// table, and every layer or loss has a backward kernel; sources, metrics and
// the import placeholder state in opsWithoutGradientCase() why they have none.
TEST(OpGradient, EveryDifferentiableOpHasACase) {
    std::set<std::string> covered;
    for (const auto& c : gradCases())
        covered.insert(c.op);
    const auto& exempt = opsWithoutGradientCase();
    for (const auto& s : OpRegistry::builtin().all()) {
        if (exempt.count(s.name)) {
            EXPECT_FALSE(covered.count(s.name))
                << s.name << " has a gradient case: drop it from opsWithoutGradientCase()";
            EXPECT_FALSE(s.backward) << s.name << " has a backward kernel but no gradient case";
            EXPECT_NE(s.role, OpRole::Loss) << s.name << ": a loss must have a gradient case";
        }
        if (s.inferWithUnknownInputs) // an import placeholder, reported by the checker, never run
            continue;
        if (s.role == OpRole::Source) {
            EXPECT_FALSE(s.forward) << s.name << ": sources are fed by the executor";
            continue;
        }
        EXPECT_TRUE(s.forward) << s.name << " has no forward kernel";
        if (s.role == OpRole::Metric) {
            EXPECT_FALSE(s.backward) << s.name << ": metrics pass no gradient";
            continue;
        }
        EXPECT_TRUE(s.backward) << s.name << " has no backward kernel";
        EXPECT_TRUE(covered.count(s.name)) << s.name << " has no finite-difference gradient case";
    }
}

// ---- Traits agree with what the op does -----------------------------------

TEST(OpTraits, ResamplingMatchesTheShapeCases) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        SCOPED_TRACE(s.name);
        const Resampling r = s.traits.resampling;
        if (s.findAttr("strides")) {
            EXPECT_NE(r, Resampling::None) << "an op with strides scales the size";
        }
        if (r == Resampling::None)
            continue;
        const auto cases = validCases(s.name);
        ASSERT_FALSE(cases.empty());
        for (const ShapeCase& c : cases) {
            auto t = outputOf(c);
            ASSERT_TRUE(t && t->shape.rank() == 4 && !c.inputs.empty());
            const ShapeIn& in = c.inputs.front();
            if (r == Resampling::Down) {
                EXPECT_LT(t->shape.height(), in.h);
                EXPECT_LT(t->shape.width(), in.w);
            } else if (r == Resampling::Up) {
                EXPECT_GT(t->shape.height(), in.h);
                EXPECT_GT(t->shape.width(), in.w);
                EXPECT_EQ(t->shape.height() % in.h, 0);
                EXPECT_EQ(t->shape.width() % in.w, 0);
            }
        }
        if (r != Resampling::ByStrides)
            continue;
        ASSERT_TRUE(s.findAttr("strides") && s.findAttr("padding"));
        const std::string same = "same";
        auto strided = validCaseWith(s.name, {{"strides", std::int64_t{2}}, {"padding", same}});
        auto unit = validCaseWith(s.name, {{"strides", std::int64_t{1}}, {"padding", same}});
        ASSERT_TRUE(strided && unit);
        auto ts = outputOf(*strided);
        auto tu = outputOf(*unit);
        ASSERT_TRUE(ts && tu);
        const ShapeIn& in = strided->inputs.front();
        EXPECT_NE(ts->shape.height(), in.h) << "strides 2 keeps the height";
        EXPECT_EQ(tu->shape.height(), in.h) << "strides 1, padding same changes the height";
        EXPECT_EQ(tu->shape.width(), in.w);
    }
}

TEST(OpTraits, ValidPaddingTrimsExactlyWhereItShrinks) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        SCOPED_TRACE(s.name);
        if (!s.findAttr("padding") || !s.findAttr("kernel_size")) {
            EXPECT_FALSE(s.traits.validPaddingTrims) << "no padding or kernel_size to trim with";
            continue;
        }
        const std::string valid = "valid";
        auto k3 = validCaseWith(
            s.name,
            {{"padding", valid}, {"kernel_size", std::int64_t{3}}, {"strides", std::int64_t{1}}});
        auto k1 = validCaseWith(
            s.name,
            {{"padding", valid}, {"kernel_size", std::int64_t{1}}, {"strides", std::int64_t{1}}});
        ASSERT_TRUE(k3 && k1);
        auto t3 = outputOf(*k3);
        auto t1 = outputOf(*k1);
        ASSERT_TRUE(t3 && t1);
        const ShapeIn& in = k3->inputs.front();
        EXPECT_EQ(s.traits.validPaddingTrims, t3->shape.height() < in.h);
        EXPECT_EQ(t1->shape.height(), in.h) << "a 1×1 kernel never trims";
    }
}

TEST(OpTraits, ActivationAndFiltersAreTheAttributesTheySayAre) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        SCOPED_TRACE(s.name);
        const ActivationUse use = s.traits.activation;
        EXPECT_EQ(use != ActivationUse::None, s.findAttr("activation") != nullptr);
        if (use != ActivationUse::None) {
            auto c = validCaseWith(s.name, {{"activation", std::string("sigmoid")}});
            ASSERT_TRUE(c);
            auto t = outputOf(*c);
            ASSERT_TRUE(t);
            EXPECT_EQ(t->kind, ValueKind::Probability)
                << "activation='sigmoid' gives probabilities";
            if (use == ActivationUse::Only) {
                EXPECT_FALSE(s.params) << "an activation alone has no parameters";
                const ShapeIn& in = c->inputs.front();
                EXPECT_EQ(t->shape.height(), in.h);
                EXPECT_EQ(t->shape.channels(), in.c);
            } else {
                EXPECT_FALSE(paramsOf(*c).empty())
                    << "a fused activation follows a layer with weights";
            }
        }
        EXPECT_EQ(s.traits.filtersSetChannels, s.findAttr("filters") != nullptr);
        if (s.traits.filtersSetChannels) {
            auto c = validCaseWith(s.name, {{"filters", std::int64_t{5}}});
            ASSERT_TRUE(c);
            auto t = outputOf(*c);
            ASSERT_TRUE(t);
            EXPECT_EQ(t->shape.channels(), 5);
        }
    }
}

TEST(OpTraits, PassThroughKeepsTheShape) {
    int found = 0;
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (!s.traits.passThrough)
            continue;
        SCOPED_TRACE(s.name);
        ++found;
        ASSERT_EQ(s.inputs.size(), 1u);
        EXPECT_EQ(s.inputs[0].name, "input");
        ASSERT_EQ(s.outputs.size(), 1u);
        EXPECT_EQ(s.outputs[0].name, "output");
        EXPECT_FALSE(s.variadicInputs);
        for (const ShapeCase& c : validCases(s.name)) {
            auto t = outputOf(c);
            ASSERT_TRUE(t);
            const ShapeIn& in = c.inputs.front();
            EXPECT_EQ(t->shape.toString(), Shape::image(in.h, in.w, in.c).toString());
        }
    }
    EXPECT_GT(found, 0);
}

TEST(OpTraits, ConvertsDataTurnsRawDataIntoFloat) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (!s.traits.convertsData)
            continue;
        SCOPED_TRACE(s.name);
        ASSERT_TRUE(s.hasOutput("output"));
        bool converts = false;
        for (const ShapeCase& c : validCases(s.name)) {
            auto t = outputOf(c);
            ASSERT_TRUE(t);
            converts =
                converts || (c.inputs.front().dtype != "float32" && t->dtype == DType::Float32);
        }
        EXPECT_TRUE(converts) << "no shape case turns non-float data into float32";
    }
}

TEST(OpTraits, BatchStatisticsAreTheNonTrainableParameters) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        SCOPED_TRACE(s.name);
        auto cases = validCases(s.name);
        if (cases.empty())
            continue;
        EXPECT_EQ(s.traits.batchStatistics, hasRunningStatistics(paramsOf(cases.front())))
            << "running statistics (non-trainable parameters) come with batch statistics";
    }
}

TEST(OpTraits, ReadsDatasetIsTheSourceWithImageAndMask) {
    int found = 0;
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        SCOPED_TRACE(s.name);
        const bool shape = s.role == OpRole::Source && s.hasOutput("image") && s.hasOutput("mask");
        EXPECT_EQ(s.traits.readsDataset, shape);
        found += s.traits.readsDataset ? 1 : 0;
    }
    EXPECT_EQ(found, 1);
}

// ---- No op name spelled outside the op's own file ---------------------------

namespace {

/// The text of a C++ source with its comments removed (string literals,
/// raw strings included, are kept as they are).
std::string withoutComments(const std::string& src) {
    std::string out;
    out.reserve(src.size());
    std::size_t i = 0;
    const std::size_t n = src.size();
    while (i < n) {
        if (src.compare(i, 2, "//") == 0) {
            while (i < n && src[i] != '\n')
                ++i;
        } else if (src.compare(i, 2, "/*") == 0) {
            const std::size_t end = src.find("*/", i + 2);
            for (std::size_t k = i; k < std::min(n, end == std::string::npos ? n : end + 2); ++k)
                if (src[k] == '\n')
                    out += '\n'; // keep line numbers
            i = end == std::string::npos ? n : end + 2;
        } else if (src[i] == 'R' && i + 1 < n && src[i + 1] == '"' &&
                   (i == 0 ||
                    !(std::isalnum(static_cast<unsigned char>(src[i - 1])) || src[i - 1] == '_'))) {
            const std::size_t open = src.find('(', i + 2);
            const std::string close = ")" + src.substr(i + 2, open - (i + 2)) + "\"";
            const std::size_t end = open == std::string::npos ? n : src.find(close, open);
            const std::size_t stop = end == std::string::npos ? n : end + close.size();
            out.append(src, i, stop - i);
            i = stop;
        } else if (src[i] == '"' ||
                   (src[i] == '\'' &&
                    (i == 0 || !std::isalnum(static_cast<unsigned char>(src[i - 1]))))) {
            const char quote = src[i];
            std::size_t k = i + 1;
            while (k < n && src[k] != quote && src[k] != '\n')
                k += src[k] == '\\' ? 2 : 1;
            k = std::min(n, k + 1);
            out.append(src, i, k - i);
            i = k;
        } else {
            out += src[i++];
        }
    }
    return out;
}

/// An op's own files: those in core/ops/ that define an op name (k…Op).
bool isOpFile(const std::filesystem::path& relative, const std::string& text) {
    return relative.parent_path() == "ops" && text.find("Op[] = \"") != std::string::npos;
}

} // namespace

TEST(OpRegistry, NoOpNameLiteralOutsideTheOpsOwnFile) {
    const std::filesystem::path core = std::filesystem::path(SEGFORGE_RESOURCES) / ".." / "core";
    ASSERT_TRUE(std::filesystem::is_directory(core)) << core;
    const std::set<std::string> names = registeredNames();
    std::vector<std::string> failing;
    int scanned = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(core)) {
        const auto ext = entry.path().extension();
        if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp"))
            continue;
        std::ifstream file(entry.path(), std::ios::binary);
        std::stringstream buffer;
        buffer << file.rdbuf();
        const std::string text = buffer.str();
        const std::filesystem::path relative = std::filesystem::relative(entry.path(), core);
        ++scanned;
        // ONNX operator types that coincide with op names (Add, Cast, …) live in
        // one file of the ONNX importer: another vocabulary, not a use of the op.
        if (isOpFile(relative, text) || relative.generic_string() == "onnx/onnx_op_types.hpp")
            continue;
        const std::string code = withoutComments(text);
        for (const std::string& name : names) {
            const std::string quoted = "\"" + name + "\"";
            for (std::size_t at = code.find(quoted); at != std::string::npos;
                 at = code.find(quoted, at + 1)) {
                const auto line =
                    1 +
                    std::count(code.begin(), code.begin() + static_cast<std::ptrdiff_t>(at), '\n');
                failing.push_back(relative.generic_string() + ":" + std::to_string(line) + ": " +
                                  quoted);
            }
        }
    }
    EXPECT_GT(scanned, 50);
    std::string list;
    for (const auto& w : failing)
        list += "\n  " + w;
    EXPECT_TRUE(failing.empty()) << "op names spelled outside the op's own file (use the op's "
                                    "traits, or its name constant from ops/builtin_ops.hpp):"
                                 << list;
}

TEST(OpRegistry, CommentStripperKeepsStringsAndLines) {
    EXPECT_EQ(withoutComments("a // \"Conv2D\"\nb"), "a \nb");
    EXPECT_EQ(withoutComments("x /* \"Dice\"\n */ y"), "x \n y");
    EXPECT_EQ(withoutComments("f(\"Dice\") // c"), "f(\"Dice\") ");
    EXPECT_EQ(withoutComments("u = \"http://a\"; // c"), "u = \"http://a\"; ");
    EXPECT_EQ(withoutComments("c = '\"'; s = \"Add\";"), "c = '\"'; s = \"Add\";");
    EXPECT_EQ(withoutComments("R\"py(# \"IoU\" // x\n)py\" // y"), "R\"py(# \"IoU\" // x\n)py\" ");
}

// ---- Keras: one table per op drives the import, the JSON and the script ----

namespace {

bool kerasValueFits(KerasValue v, const AttrSpec& spec) {
    switch (v) {
    case KerasValue::Int:
    case KerasValue::ZeroIsNone:
    case KerasValue::NegativeIsNone:
        return spec.type == AttrType::Int;
    case KerasValue::Float:
        return spec.type == AttrType::Float;
    case KerasValue::Bool:
        return spec.type == AttrType::Bool;
    case KerasValue::Pair:
    case KerasValue::PoolStrides:
        return spec.type == AttrType::IntList && spec.listSize == 2;
    case KerasValue::Quad:
        return spec.type == AttrType::IntList && spec.listSize == 4;
    case KerasValue::Lowercase:
    case KerasValue::String:
    case KerasValue::Activation:
    case KerasValue::Initializer:
        return spec.type == AttrType::Enum || spec.type == AttrType::String;
    }
    return false;
}

/// A valid value of the attribute other than its default.
AttrValue otherThanDefault(const AttrSpec& spec) {
    const auto fits = [&](double v) {
        return (!spec.min || v >= *spec.min) &&
               (!spec.max || (spec.maxExclusive ? v < *spec.max : v <= *spec.max));
    };
    switch (spec.type) {
    case AttrType::Int: {
        const std::int64_t d = std::get<std::int64_t>(spec.defaultValue);
        return fits(static_cast<double>(d + 1)) ? d + 1 : d - 1;
    }
    case AttrType::Float: {
        const double d = std::get<double>(spec.defaultValue);
        const double hi = spec.max.value_or(d + 1.0);
        return hi > d ? (d + hi) / 2 : (spec.min.value_or(d - 1.0) + d) / 2;
    }
    case AttrType::Bool:
        return !std::get<bool>(spec.defaultValue);
    case AttrType::Enum:
        for (const std::string& c : spec.choices)
            if (AttrValue(c) != spec.defaultValue)
                return c;
        return spec.defaultValue;
    case AttrType::String:
        return std::get<std::string>(spec.defaultValue) + "x";
    case AttrType::IntList: {
        std::vector<std::int64_t> v =
            std::get<std::vector<std::int64_t>>(*coerceAttribute(spec, spec.defaultValue));
        for (std::int64_t& e : v)
            e = fits(static_cast<double>(e + 1)) ? e + 1 : e - 1;
        return v;
    }
    }
    return spec.defaultValue;
}

/// Every schema attribute of a node, resolved to a value (or its default).
AttrMap resolvedAll(const Node& n) {
    AttrMap out;
    for (const AttrSpec& spec : OpRegistry::builtin().find(n.op)->attrs)
        if (auto v = ops::resolvedAttr(n, spec.name))
            out[spec.name] = *v;
    return out;
}

/// One node per written Keras form of every op, each attribute of the form set
/// to a value other than its default, all fed by one Input.
Graph everyKerasForm() {
    GraphBuilder b;
    const NodeId in = b.add(interop::kerasInputOp().name, "in",
                            {{"height", std::int64_t{20}},
                             {"width", std::int64_t{24}},
                             {"channels", std::int64_t{2}},
                             {"batch_size", std::int64_t{4}}});
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        for (std::size_t f = 0; f < s.keras.forms.size(); ++f) {
            const KerasForm& form = s.keras.forms[f];
            if (form.importOnly)
                continue;
            AttrMap attrs;
            for (const KerasAttr& a : form.attrs)
                attrs[a.attr] = otherThanDefault(*s.findAttr(a.attr));
            for (const auto& [key, value] : form.implies)
                attrs[key] = value;
            if (s.variadicInputs)
                attrs["num_inputs"] = std::int64_t{3};
            const NodeId id = b.add(s.name, "k_" + s.name + "_" + std::to_string(f), attrs);
            for (const std::string& port : s.inputNames(*b.graph.findNode(id)))
                b.wire({in, "output"}, {id, port});
        }
    }
    return b.graph;
}

} // namespace

TEST(OpKeras, EveryOpHasAKerasMappingOrAReason) {
    std::map<std::string, std::string> classOwner;
    int importTargets = 0, identities = 0, placeholders = 0;
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        SCOPED_TRACE(s.name);
        const KerasMapping& k = s.keras;
        const int kinds = int(!k.forms.empty()) + int(k.input.has_value()) +
                          int(k.loss.has_value()) + int(k.placeholder) + int(!k.none.empty());
        EXPECT_EQ(kinds, 1) << "a Keras layer, an input, a loss, the placeholder, or why none";
        EXPECT_TRUE(k.none.empty() || k.none.rfind("no Keras", 0) == 0) << k.none;
        EXPECT_TRUE(k.none.empty() || k.none.find("because") != std::string::npos) << k.none;
        EXPECT_EQ(s.role == OpRole::Source, k.input.has_value());
        EXPECT_EQ(s.role == OpRole::Loss, k.loss.has_value());
        if (s.role == OpRole::Metric) {
            EXPECT_FALSE(k.none.empty());
        }
        importTargets += k.input && k.input->importTarget;
        identities += k.identity.has_value();
        placeholders += k.placeholder;
        if (!k.forms.empty()) {
            EXPECT_TRUE(std::any_of(k.forms.begin(), k.forms.end(), [](const KerasForm& f) {
                return !f.importOnly;
            })) << "no form is written";
        }
        for (const KerasForm& form : k.forms) {
            ASSERT_FALSE(form.classes.empty());
            for (const std::string& cls : form.classes) {
                auto [it, fresh] = classOwner.emplace(cls, s.name);
                EXPECT_TRUE(fresh) << cls << " is read by " << it->second << " and " << s.name;
            }
            for (const KerasAttr& a : form.attrs) {
                const AttrSpec* spec = s.findAttr(a.attr);
                ASSERT_NE(spec, nullptr) << a.attr;
                EXPECT_TRUE(kerasValueFits(a.value, *spec)) << a.attr;
                if (a.value == KerasValue::PoolStrides) {
                    EXPECT_NE(s.findAttr("pool_size"), nullptr);
                }
                if (a.kerasDefault && a.value != KerasValue::Pair && a.value != KerasValue::Quad &&
                    a.value != KerasValue::PoolStrides) {
                    EXPECT_TRUE(coerceAttribute(*spec, *a.kerasDefault)) << a.attr;
                }
            }
            for (const auto& [key, value] : form.implies)
                EXPECT_TRUE(s.findAttr(key) && coerceAttribute(*s.findAttr(key), value)) << key;
            for (const KerasFixed& f : form.fixed)
                EXPECT_TRUE(nlohmann::json::accept(f.json)) << f.key;
        }
        for (const auto& [weight, condition] : k.weights) {
            EXPECT_FALSE(weight.empty());
            if (!condition.empty()) {
                EXPECT_TRUE(s.findAttr(condition) && s.findAttr(condition)->type == AttrType::Bool)
                    << condition;
            }
        }
        if (k.loss) {
            EXPECT_FALSE(k.loss->callable.empty());
            EXPECT_EQ(k.loss->args.size(), s.attrs.size())
                << "every attribute of a loss is an argument";
            for (const KerasAttr& a : k.loss->args)
                EXPECT_TRUE(s.findAttr(a.attr) && kerasValueFits(a.value, *s.findAttr(a.attr)))
                    << a.attr;
        }
        if (k.input) {
            EXPECT_NE(s.findAttr(k.input->dtypeAttr), nullptr);
            EXPECT_TRUE(k.input->batchAttr.empty() || s.findAttr(k.input->batchAttr));
        }
    }
    EXPECT_EQ(importTargets, 1);
    EXPECT_EQ(identities, 1);
    EXPECT_EQ(placeholders, 1);
}

TEST(OpKeras, WeightsAreTheOpsParameters) {
    int checked = 0;
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (s.keras.forms.empty())
            continue;
        for (const ShapeCase& c : validCases(s.name)) {
            SCOPED_TRACE(s.name);
            std::set<std::string> params, weights;
            for (const ParamSpec& p : paramsOf(c))
                params.insert(p.name);
            Node n;
            n.op = s.name;
            n.attrs = c.attrs;
            for (const auto& [weight, condition] : s.keras.weights)
                if (condition.empty() || std::get<bool>(*ops::resolvedAttr(n, condition)))
                    weights.insert(weight);
            EXPECT_EQ(weights, params);
            ++checked;
        }
    }
    EXPECT_GT(checked, 10);
}

TEST(OpKeras, EveryWrittenFormRoundTripsThroughKerasJson) {
    const Graph g = everyKerasForm();
    KerasJsonExport e = exportKerasJson(g, "forms");
    ASSERT_TRUE(e.ok()) << e.errors.at(0);
    KerasImport back = importKerasJson(e.model.dump(), "forms.json");
    ASSERT_TRUE(back.ok()) << back.errors.at(0);
    for (const auto& w : back.warnings)
        ADD_FAILURE() << "round trip warns: " << w;
    int compared = 0;
    for (const auto& [id, n] : g.nodes()) {
        SCOPED_TRACE(n.name);
        const Node* m = back.project->graph.findNodeByName(n.name);
        ASSERT_NE(m, nullptr);
        EXPECT_EQ(m->op, n.op);
        const OpSchema& s = *OpRegistry::builtin().find(n.op);
        if (!s.keras.forms.empty()) {
            const KerasForm* form = kerasExportForm(s.keras, resolvedAll(n));
            ASSERT_NE(form, nullptr);
            EXPECT_EQ(n.name, "k_" + n.op + "_" + std::to_string(form - s.keras.forms.data()))
                << "the node is written as the form it was made for";
            for (const KerasAttr& a : form->attrs) {
                const AttrSpec& spec = *s.findAttr(a.attr);
                EXPECT_NE(resolvedAll(n).at(a.attr), *coerceAttribute(spec, spec.defaultValue))
                    << a.attr << " is not exercised";
            }
        }
        EXPECT_EQ(resolvedAll(*m), resolvedAll(n));
        ++compared;
    }
    EXPECT_GT(compared, 15);
}

TEST(OpKeras, PoolStridesAreWrittenAlikeByTheJsonAndTheScript) {
    using V = std::vector<std::int64_t>;
    GraphBuilder b;
    const NodeId in = b.add(interop::kerasInputOp().name, "in");
    const OpSchema* pool = nullptr;
    for (const OpSchema& s : OpRegistry::builtin().all())
        for (const KerasForm& f : s.keras.forms)
            for (const KerasAttr& a : f.attrs)
                if (a.value == KerasValue::PoolStrides && !pool)
                    pool = &s;
    ASSERT_NE(pool, nullptr);
    // 0 is Keras' None (the pool size) per axis: (0, 2) is (3, 2), not a stride of 0.
    b.then(pool->name, "p", {in, "output"}, {{"pool_size", V{3, 3}}, {"strides", V{0, 2}}});
    KerasJsonExport e = exportKerasJson(b.graph, "p");
    ASSERT_TRUE(e.ok());
    const auto& layers = e.model["config"]["layers"];
    ASSERT_EQ(layers.size(), 2u);
    EXPECT_EQ(layers[1]["config"]["strides"], nlohmann::json::parse("[3, 2]"));
    Project p;
    p.name = "p";
    p.graph = b.graph;
    ScriptExport s = exportKerasScript(p, "");
    ASSERT_TRUE(s.ok());
    EXPECT_NE(s.text.find("pool_size=(3, 3), strides=(3, 2), padding="), std::string::npos);
    KerasImport back = importKerasJson(e.model.dump(), "p.json");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(ops::resolvedAttr(*back.project->graph.findNodeByName("p"), "strides"),
              AttrValue(V{3, 2}));
}

TEST(OpKeras, LeakyReluFunctionSlopeIsOneConstant) {
    // activation='leaky_relu' on an Activation layer is Keras' function, whose
    // slope the kernels fused into a convolution use too.
    const std::string json = R"({"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 1], "name": "in"}},
        {"class_name": "Activation", "config": {"activation": "leaky_relu", "name": "a"}}]}})";
    KerasImport back = importKerasJson(json, "leaky.json");
    ASSERT_TRUE(back.ok()) << back.errors.at(0);
    const Node* a = back.project->graph.findNodeByName("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(ops::resolvedAttr(*a, "alpha"), AttrValue(kernels::kLeakyReluSlope));
    EXPECT_EQ(kernels::kLeakyReluSlope, 0.2);
    EXPECT_EQ(kernels::kDefaultLeakySlope, 0.2f);
}

TEST(OpKeras, PyTorchModulesUseTheLeakyReluFunctionSlope) {
    // The PyTorch script's activate() is Python text (resources/python): its
    // default slope is the fused one, kernels::kLeakyReluSlope.
    std::ifstream file(std::filesystem::path(SEGFORGE_RESOURCES) / "python" / "pytorch_modules.py");
    std::stringstream buffer;
    buffer << file.rdbuf();
    const std::string text = buffer.str();
    const std::string def = "def activate(x, name, alpha=";
    const std::size_t at = text.find(def);
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(std::stod(text.substr(at + def.size())), kernels::kLeakyReluSlope);
}

// ---- PyTorch, ONNX and FLOPs (ops/export_mapping.hpp) ----

namespace {

/// "…, because …": a reason says why.
bool statesWhy(const std::string& reason) {
    return reason.find("because") != std::string::npos;
}

} // namespace

TEST(OpExportMapping, EveryOpHasAPyTorchModuleOrSaysWhyNot) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (s.pytorch.module) {
            EXPECT_TRUE(s.pytorch.notExportable.empty()) << s.name << ": a module and a reason";
        } else {
            EXPECT_TRUE(statesWhy(s.pytorch.notExportable))
                << s.name << " has no PyTorch module and no reason ('…, because …') why not";
        }
    }
}

TEST(OpExportMapping, EveryOpHasOnnxNodesOrSaysWhyNot) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (s.onnx.write) {
            EXPECT_TRUE(s.onnx.notExportable.empty()) << s.name << ": ONNX nodes and a reason";
        } else {
            EXPECT_TRUE(statesWhy(s.onnx.notExportable))
                << s.name << " has no ONNX mapping and no reason ('…, because …') why not";
            EXPECT_FALSE(s.onnx.keepsInputDType) << s.name;
        }
    }
}

TEST(OpExportMapping, EveryOpCountsItsFlopsOrIsDeclaredFree) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        EXPECT_NE(static_cast<bool>(s.flops.forward), !s.flops.freeBecause.empty())
            << s.name << ": a FLOP function, or declared free with a reason (exactly one)";
    }
}

TEST(OpExportMapping, EveryLayerTheExportersWriteHasBothMappings) {
    // Layers with parameters are never dropped by an exporter: they have a module and nodes.
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (s.role == OpRole::Layer && s.backward && s.forward && s.params) {
            EXPECT_TRUE(s.pytorch.module) << s.name;
            EXPECT_TRUE(s.onnx.write) << s.name;
        }
    }
}

TEST(OpExportMapping, ConvolutionFlopsAreTheAnalyticCount) {
    Graph g;
    const NodeId in = g.addNode(
        "Input", "in",
        {{"height", std::int64_t{10}}, {"width", std::int64_t{12}}, {"channels", std::int64_t{3}}});
    const NodeId conv = g.addNode("Conv2D", "conv",
                                  {{"filters", std::int64_t{5}},
                                   {"kernel_size", std::vector<std::int64_t>{3, 2}},
                                   {"strides", std::int64_t{2}},
                                   {"padding", std::string("same")}});
    const NodeId up = g.addNode("Conv2DTranspose", "up",
                                {{"filters", std::int64_t{2}},
                                 {"kernel_size", std::int64_t{3}},
                                 {"strides", std::int64_t{2}},
                                 {"padding", std::string("same")}});
    const NodeId relu = g.addNode("Activation", "relu", {{"activation", std::string("relu")}});
    ASSERT_TRUE(g.connect({in, "output"}, {conv, "input"}));
    ASSERT_TRUE(g.connect({conv, "output"}, {up, "input"}));
    ASSERT_TRUE(g.connect({up, "output"}, {relu, "input"}));
    const std::int64_t batch = 4;
    const auto flops = convolutionFlopsByNode(g, batch);
    // Conv2D: 10×12 → 5×6 (same, stride 2); 3·2·3·5 multiply-adds per output pixel.
    const double convFlops = 2.0 * (3 * 2 * 3 * 5) * (batch * 5 * 6);
    // Conv2DTranspose: 3·3·5·2 multiply-adds per input pixel, 5×6 of them.
    const double upFlops = 2.0 * (3 * 3 * 5 * 2) * (batch * 5 * 6);
    ASSERT_EQ(flops.size(), 2u); // Input and Activation are declared free
    EXPECT_EQ(flops.at(conv), convFlops);
    EXPECT_EQ(flops.at(up), upFlops);
    EXPECT_EQ(convolutionFlops(g, batch), convFlops + upFlops);

    // A convolution whose input is unknown is not counted.
    Graph unfed;
    unfed.addNode("Conv2D", "alone");
    EXPECT_TRUE(convolutionFlopsByNode(unfed, batch).empty());
}

TEST(OpExportMapping, PyTorchModuleOfAConvolutionNamesItsSettings) {
    const OpSchema* conv = OpRegistry::builtin().find("Conv2D");
    ASSERT_NE(conv, nullptr);
    AttrMap attrs;
    for (const AttrSpec& a : conv->attrs)
        attrs.emplace(a.name, a.defaultValue);
    attrs["filters"] = std::int64_t{8};
    attrs["kernel_size"] = std::vector<std::int64_t>{3, 1};
    attrs["padding"] = std::string("same");
    Node node;
    node.op = "Conv2D";
    node.name = "c";
    InteropView view{node,
                     attrs,
                     {"input"},
                     {TensorType{Shape::image(16, 16, 4), DType::Float32}},
                     std::nullopt};
    EXPECT_EQ(conv->pytorch.module(view),
              "KerasConv2d(4, 8, (3, 1), (1, 1), \"same\", (1, 1), \"linear\", True)");
    EXPECT_TRUE(conv->pytorch.needsInputChannels);
}

// ---- The Python the exporters emit (resources/python, export/python_sources.hpp) ----

TEST(PythonSources, EveryResourceFileIsEmbeddedAsItStands) {
    const std::filesystem::path dir = std::filesystem::path(SEGFORGE_RESOURCES) / "python";
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".py")
            files.push_back(entry.path().stem().string());
    }
    std::sort(files.begin(), files.end());
    EXPECT_EQ(interop::pythonSourceStems(), files);
    const std::string marker = "# --- SegForge embeds the lines below in exported scripts ---\n";
    for (const std::string& stem : files) {
        std::ifstream in(dir / (stem + ".py"), std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        const std::string whole = text.str();
        const std::size_t at = whole.find(marker);
        ASSERT_NE(at, std::string::npos) << stem << ".py has no marker line";
        EXPECT_EQ(interop::pythonSource(stem), whole.substr(at + marker.size())) << stem;
    }
    EXPECT_THROW(interop::pythonSource("no_such_file"), std::logic_error);
}

TEST(PythonSources, PlaceholdersAreWholeNamesAndMustOccur) {
    EXPECT_EQ(interop::fillPlaceholders("A = SEGFORGE_X + SEGFORGE_XY + SEGFORGE_X\n",
                                        {{"SEGFORGE_X", "1"}, {"SEGFORGE_XY", "\"two\""}}),
              "A = 1 + \"two\" + 1\n");
    EXPECT_THROW(interop::fillPlaceholders("A = 1\n", {{"SEGFORGE_X", "1"}}), std::logic_error);
    // A value that spells a placeholder (a folder named so) stays as it is.
    EXPECT_EQ(interop::fillPlaceholders("A = SEGFORGE_X, SEGFORGE_Y\n",
                                        {{"SEGFORGE_X", "\"SEGFORGE_Y\""}, {"SEGFORGE_Y", "2"}}),
              "A = \"SEGFORGE_Y\", 2\n");
}

TEST(PythonSources, PyTorchLeakyReluSlopeIsTheEngines) {
    // activate()'s default slope in the PyTorch script is written in Python; it
    // must be the slope the engine and the ONNX export use for a fused leaky_relu.
    const std::string modules = interop::pythonSource("pytorch_modules");
    const std::string def = "def activate(x, name, alpha=";
    const std::size_t at = modules.find(def);
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(std::stod(modules.substr(at + def.size())), kernels::kLeakyReluSlope);
}

// ---- Symbolic sizes: every op's OpSchema::spatial is its infer, symbolically ----

namespace {

/// Ops with an image output but no expression for its height and width.
const std::map<std::string, std::string>& opsWithoutSpatial() {
    static const std::map<std::string, std::string> exempt{
        {"KerasLayer", "a placeholder for an unknown Keras layer: its output size is unknown"},
        {"OnnxNode", "a placeholder for an unknown ONNX node: the shapes the file declares hold "
                     "at the file's input size only"},
    };
    return exempt;
}

/// Every combination of the window, stride, padding, crop and scale attributes
/// the op has (at most a few dozen), on top of its first valid shape case.
std::vector<AttrMap> spatialVariants(const OpSchema& s) {
    using V = std::vector<std::int64_t>;
    std::vector<std::pair<std::string, std::vector<AttrValue>>> axes;
    auto has = [&s](const char* name) { return s.findAttr(name) != nullptr; };
    const bool window = has("kernel_size");
    if (has("padding") && s.findAttr("padding")->type == AttrType::Enum)
        axes.push_back({"padding", {std::string("valid"), std::string("same")}});
    if (has("padding") && s.findAttr("padding")->type == AttrType::IntList)
        axes.push_back({"padding", {V{0, 0, 0, 0}, V{1, 0, 2, 3}, V{4, 4, 0, 1}}});
    if (has("cropping"))
        axes.push_back({"cropping", {V{0, 0, 0, 0}, V{1, 2, 3, 0}, V{5, 0, 0, 7}}});
    if (has("kernel_size"))
        axes.push_back({"kernel_size", {V{1, 1}, V{2, 2}, V{3, 3}, V{4, 4}, V{3, 2}}});
    if (has("pool_size"))
        axes.push_back({"pool_size", {V{1, 1}, V{2, 2}, V{3, 3}, V{2, 3}}});
    if (has("strides"))
        axes.push_back({"strides", window ? std::vector<AttrValue>{V{1, 1}, V{2, 2}, V{3, 3}}
                                          : std::vector<AttrValue>{V{0, 0}, V{1, 1}, V{2, 2},
                                                                   V{3, 3}, V{2, 1}}});
    if (has("dilation_rate"))
        axes.push_back({"dilation_rate", {V{1, 1}, V{2, 2}}});
    if (has("size"))
        axes.push_back({"size", {V{1, 1}, V{2, 2}, V{3, 2}}});
    std::vector<AttrMap> variants{validCases(s.name).front().attrs};
    for (const auto& [name, values] : axes) {
        std::vector<AttrMap> next;
        for (const AttrMap& base : variants) {
            for (const AttrValue& v : values) {
                AttrMap m = base;
                m[name] = v;
                next.push_back(std::move(m));
            }
        }
        variants = std::move(next);
    }
    return variants;
}

std::string describe(const AttrMap& attrs) {
    std::string text;
    for (const auto& [name, value] : attrs)
        text += name + "=" + attrToString(value) + " ";
    return text;
}

/// The op's attributes as its SpatialFn receives them (validated, defaults filled).
AttrMap resolvedAttrs(const OpSchema& s, const Node& node) {
    AttrMap attrs;
    for (const AttrSpec& spec : s.attrs) {
        if (auto v = ops::resolvedAttr(node, spec.name))
            attrs.emplace(spec.name, *v);
    }
    return attrs;
}

} // namespace

TEST(OpSpatial, EveryImageOpDeclaresItsSizes) {
    const auto& exempt = opsWithoutSpatial();
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (s.role == OpRole::Loss || s.role == OpRole::Metric) {
            EXPECT_FALSE(s.spatial) << s.name << " has no image output: leave spatial empty";
            continue;
        }
        if (exempt.count(s.name)) {
            EXPECT_FALSE(s.spatial) << s.name << " has spatial: drop it from opsWithoutSpatial()";
            continue;
        }
        auto cases = validCases(s.name);
        ASSERT_FALSE(cases.empty()) << s.name;
        auto type = outputOf(cases.front());
        ASSERT_TRUE(type.has_value()) << s.name;
        if (type->shape.isImage()) {
            EXPECT_TRUE(s.spatial) << s.name << " outputs an image but declares no spatial";
        }
    }
}

TEST(OpSpatial, SourcesAreTheirSizeOrTheFreeVariable) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (s.role != OpRole::Source)
            continue;
        ASSERT_TRUE(s.findAttr("variable_size")) << s.name;
        Node node;
        node.op = s.name;
        node.attrs = {{"height", std::int64_t{37}}, {"width", std::int64_t{21}}};
        AttrMap attrs = resolvedAttrs(s, node);
        EXPECT_EQ(s.spatial(attrs, 0, {}), SizeExpr::constant(37)) << s.name;
        EXPECT_EQ(s.spatial(attrs, 1, {}), SizeExpr::constant(21)) << s.name;
        attrs["variable_size"] = true;
        EXPECT_EQ(s.spatial(attrs, 0, {}), SizeExpr::variable("H")) << s.name;
        EXPECT_EQ(s.spatial(attrs, 1, {}), SizeExpr::variable("W")) << s.name;
    }
}

TEST(OpSpatial, ExpressionIsTheConcreteInferAtEverySize) {
    const SizeExpr h = SizeExpr::variable("H");
    const SizeExpr w = SizeExpr::variable("W");
    int compared = 0;
    int collapsed = 0;
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (!s.spatial || s.role == OpRole::Source)
            continue;
        const ShapeCase base = validCases(s.name).front();
        for (const AttrMap& attrs : spatialVariants(s)) {
            Node probe;
            probe.op = s.name;
            probe.attrs = attrs;
            const AttrMap resolved = resolvedAttrs(s, probe);
            ASSERT_EQ(resolved.size(), s.attrs.size()) << s.name;
            const SizeExpr eh = s.spatial(resolved, 0, h);
            const SizeExpr ew = s.spatial(resolved, 1, w);
            for (std::int64_t size = 1; size <= 300; ++size) {
                ShapeCase c = base;
                c.attrs = attrs;
                for (ShapeIn& in : c.inputs) {
                    in.h = static_cast<int>(size);
                    in.w = static_cast<int>(size + 3); // the axes apart
                }
                CheckResult r;
                NodeId node = kNoNode;
                runShapeCase(c, r, node);
                const auto& out = r.nodes.at(node).outputs;
                const std::int64_t wantH = *eh.evaluate(size);
                const std::int64_t wantW = *ew.evaluate(size + 3);
                if (!out.empty() && out[0]) {
                    ASSERT_EQ(out[0]->shape.height(), wantH)
                        << s.name << " " << describe(attrs) << " at " << size << ": "
                        << eh.toString();
                    ASSERT_EQ(out[0]->shape.width(), wantW)
                        << s.name << " " << describe(attrs) << " at " << size + 3 << ": "
                        << ew.toString();
                    ++compared;
                } else if (r.has(codes::kSpatialCollapse)) {
                    EXPECT_TRUE(wantH <= 0 || wantW <= 0)
                        << s.name << " collapses at " << size << " but " << eh.toString() << " = "
                        << wantH << ", " << ew.toString() << " = " << wantW;
                    ++collapsed;
                }
            }
        }
    }
    EXPECT_GT(compared, 20000);
    EXPECT_GT(collapsed, 100);
}
