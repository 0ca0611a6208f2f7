#include "project/project_file.hpp"

#include "io/atomic_file.hpp"
#include "project/graph_revision.hpp"
#include "util/bounded_json.hpp"
#include "util/file_text.hpp"
#include "util/str_cat.hpp"

#include <map>
#include <set>

namespace segforge::core {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {
/// The sample U-Net's project is 20 KB; a 10,000-node graph about 3 MB.
constexpr std::uint64_t kMaxProjectFileBytes = 256ull << 20;
} // namespace

nlohmann::json attrToJson(const AttrValue& value) {
    return std::visit([](const auto& v) { return json(v); }, value);
}

std::optional<AttrValue> attrFromJson(const json& value) {
    if (value.is_boolean())
        return AttrValue{value.get<bool>()};
    if (value.is_number_integer())
        return AttrValue{value.get<std::int64_t>()};
    if (value.is_number_float())
        return AttrValue{value.get<double>()};
    if (value.is_string())
        return AttrValue{value.get<std::string>()};
    if (value.is_array()) {
        std::vector<std::int64_t> list;
        for (const auto& item : value) {
            if (item.is_number_integer()) {
                list.push_back(item.get<std::int64_t>());
            } else if (item.is_array()) {
                for (const auto& inner : item) {
                    if (!inner.is_number_integer())
                        return std::nullopt;
                    list.push_back(inner.get<std::int64_t>());
                }
            } else {
                return std::nullopt;
            }
        }
        return AttrValue{list};
    }
    return std::nullopt;
}

namespace {

/// Collects located errors while walking the document.
class Reader {
public:
    explicit Reader(std::string file)
        : m_file(std::move(file)) {}

    void error(const std::string& path, const std::string& what) {
        m_errors.push_back(strCat(m_file, ":", path, ": ", what));
    }
    void warning(const std::string& path, const std::string& what) {
        m_warnings.push_back(strCat(m_file, ":", path, ": ", what));
    }

    static std::string typeName(const json& v) {
        if (v.is_number_integer())
            return "an integer";
        if (v.is_number())
            return "a number";
        if (v.is_string())
            return "a string";
        if (v.is_boolean())
            return "a boolean";
        if (v.is_array())
            return "a list";
        if (v.is_object())
            return "an object";
        return "null";
    }

    const json* field(const json& obj, const std::string& path, const char* key, bool required) {
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required)
                error(path, strCat("missing required field '", key, "'"));
            return nullptr;
        }
        return &*it;
    }

    std::optional<std::string> str(const json& obj, const std::string& path, const char* key,
                                   bool required) {
        const json* v = field(obj, path, key, required);
        if (!v)
            return std::nullopt;
        if (!v->is_string()) {
            error(join(path, key), "expected a string, got " + typeName(*v));
            return std::nullopt;
        }
        return v->get<std::string>();
    }

    std::optional<std::int64_t> integer(const json& obj, const std::string& path, const char* key,
                                        bool required, std::int64_t min, std::int64_t max) {
        const json* v = field(obj, path, key, required);
        if (!v)
            return std::nullopt;
        if (!v->is_number_integer()) {
            error(join(path, key), "expected an integer, got " + typeName(*v));
            return std::nullopt;
        }
        auto i = v->get<std::int64_t>();
        if (i < min || i > max) {
            error(join(path, key), strCat(i, " is out of range [", min, ", ", max, "]"));
            return std::nullopt;
        }
        return i;
    }

    std::optional<double> number(const json& obj, const std::string& path, const char* key,
                                 double min, double max) {
        const json* v = field(obj, path, key, false);
        if (!v)
            return std::nullopt;
        if (!v->is_number()) {
            error(join(path, key), "expected a number, got " + typeName(*v));
            return std::nullopt;
        }
        double d = v->get<double>();
        if (!(d >= min && d <= max)) {
            error(join(path, key), strCat(formatNumber(d), " is out of range [", formatNumber(min),
                                          ", ", formatNumber(max), "]"));
            return std::nullopt;
        }
        return d;
    }

    void unknownKeys(const json& obj, const std::string& path,
                     std::initializer_list<const char*> known) {
        for (const auto& [key, value] : obj.items()) {
            bool ok = false;
            for (const char* k : known)
                ok = ok || key == k;
            if (!ok)
                warning(join(path, key), "unknown field, ignored");
        }
    }

    static std::string join(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "." + key;
    }

    std::vector<std::string> takeErrors() { return std::move(m_errors); }
    std::vector<std::string> takeWarnings() { return std::move(m_warnings); }
    bool failed() const { return !m_errors.empty(); }

private:
    std::string m_file;
    std::vector<std::string> m_errors;
    std::vector<std::string> m_warnings;
};

void readNode(Reader& r, const json& jn, const std::string& path, Graph& graph,
              std::set<NodeId>& ids) {
    if (!jn.is_object()) {
        r.error(path, "expected an object, got " + Reader::typeName(jn));
        return;
    }
    r.unknownKeys(jn, path, {"id", "op", "name", "position", "attrs"});
    Node node;
    auto id = r.integer(jn, path, "id", true, 1, std::int64_t{1} << 52);
    auto op = r.str(jn, path, "op", true);
    auto name = r.str(jn, path, "name", false);
    if (!id || !op)
        return;
    if (!ids.insert(*id).second) {
        r.error(path + ".id", strCat("duplicate node id ", *id));
        return;
    }
    if (op->empty()) {
        r.error(path + ".op", "must not be empty");
        return;
    }
    node.id = *id;
    node.op = *op;
    node.name = name ? *name : strCat(*op, "_", *id);
    if (const json* pos = r.field(jn, path, "position", false)) {
        if (pos->is_array() && pos->size() == 2 && (*pos)[0].is_number() && (*pos)[1].is_number())
            node.position = {(*pos)[0].get<double>(), (*pos)[1].get<double>()};
        else
            r.error(path + ".position", "expected [x, y] numbers, got " + jsonExcerpt(*pos));
    }
    if (const json* attrs = r.field(jn, path, "attrs", false)) {
        if (!attrs->is_object()) {
            r.error(path + ".attrs", "expected an object, got " + Reader::typeName(*attrs));
        } else {
            for (const auto& [key, value] : attrs->items()) {
                if (auto v = attrFromJson(value))
                    node.attrs.emplace(key, std::move(*v));
                else
                    r.error(path + ".attrs." + key, "expected a number, string, boolean or list of "
                                                    "integers, got " +
                                                        jsonExcerpt(value));
            }
        }
    }
    graph.addNode(std::move(node));
}

std::optional<PortRef> readPort(Reader& r, const json& je, const std::string& path, const char* key,
                                const Graph& graph) {
    const json* v = r.field(je, path, key, true);
    if (!v)
        return std::nullopt;
    const std::string p = path + "." + key;
    if (!v->is_object()) {
        r.error(p, "expected {\"node\": id, \"port\": name}, got " + jsonExcerpt(*v));
        return std::nullopt;
    }
    auto node = r.integer(*v, p, "node", true, 1, std::int64_t{1} << 52);
    auto port = r.str(*v, p, "port", true);
    if (!node || !port)
        return std::nullopt;
    if (!graph.hasNode(*node)) {
        r.error(p + ".node", strCat("no node with id ", *node));
        return std::nullopt;
    }
    return PortRef{*node, *port};
}

/// One entry of graph.groups. Members must name nodes read above, each in at
/// most one group; `owner` remembers which entry claimed each node so a second
/// claim can name the first.
void readGroup(Reader& r, const json& jg, const std::string& path, Graph& graph,
               std::map<NodeId, std::string>& owner) {
    if (!jg.is_object()) {
        r.error(path, "expected an object, got " + Reader::typeName(jg));
        return;
    }
    r.unknownKeys(jg, path, {"id", "name", "members", "collapsed"});
    auto id = r.integer(jg, path, "id", true, 1, std::int64_t{1} << 52);
    auto name = r.str(jg, path, "name", true);
    const json* members = r.field(jg, path, "members", true);
    Group group;
    if (const json* collapsed = r.field(jg, path, "collapsed", false)) {
        if (collapsed->is_boolean())
            group.collapsed = collapsed->get<bool>();
        else
            r.error(path + ".collapsed", "expected a boolean, got " + Reader::typeName(*collapsed));
    }
    if (id && graph.findGroup(*id)) {
        r.error(path + ".id", strCat("duplicate group id ", *id));
        return;
    }
    if (members && !members->is_array()) {
        r.error(path + ".members",
                "expected a list of node ids, got " + Reader::typeName(*members));
        return;
    }
    if (!id || !name || !members)
        return;
    for (std::size_t i = 0; i < members->size(); ++i) {
        const json& m = (*members)[i];
        const std::string at = strCat(path, ".members[", i, "]");
        if (!m.is_number_integer()) {
            r.error(at, "expected a node id, got " + Reader::typeName(m));
            continue;
        }
        const auto node = m.get<std::int64_t>();
        if (!graph.hasNode(node)) {
            r.error(at, strCat("no node with id ", node));
            continue;
        }
        auto [it, fresh] = owner.emplace(node, *name);
        if (!fresh) {
            r.error(at, strCat("node ", node, " is already in group '",
                               validUtf8(it->second.substr(0, 80)),
                               "'; a node belongs to at most one group"));
            continue;
        }
        group.members.insert(node);
    }
    group.id = *id;
    group.name = *name;
    graph.addGroup(std::move(group));
}

void readTraining(Reader& r, const json& jt, TrainingSettings& t) {
    const std::string path = "training";
    if (!jt.is_object()) {
        r.error(path, "expected an object, got " + Reader::typeName(jt));
        return;
    }
    r.unknownKeys(jt, path,
                  {"epochs", "learning_rate", "optimizer", "schedule", "momentum", "weight_decay",
                   "validation_split", "seed", "threads"});
    if (auto v = r.integer(jt, path, "epochs", false, 1, 1000000))
        t.epochs = *v;
    if (auto v = r.number(jt, path, "learning_rate", 1e-12, 10))
        t.learningRate = *v;
    if (auto v = r.number(jt, path, "momentum", 0, 1))
        t.momentum = *v;
    if (auto v = r.number(jt, path, "weight_decay", 0, 1))
        t.weightDecay = *v;
    if (auto v = r.number(jt, path, "validation_split", 0, 0.9))
        t.validationSplit = *v;
    if (auto v = r.integer(jt, path, "seed", false, 0, std::int64_t{1} << 52))
        t.seed = *v;
    if (auto v = r.integer(jt, path, "threads", false, 0, 1024))
        t.threads = *v;
    auto choose = [&](const char* key, std::initializer_list<const char*> allowed,
                      std::string& out) {
        auto v = r.str(jt, path, key, false);
        if (!v)
            return;
        for (const char* a : allowed) {
            if (*v == a) {
                out = *v;
                return;
            }
        }
        std::string list;
        for (const char* a : allowed)
            list += (list.empty() ? "" : ", ") + std::string(a);
        r.error(path + "." + key, strCat("'", *v, "' is not one of ", list));
    };
    choose("optimizer", {"sgd", "adam", "adamw"}, t.optimizer);
    choose("schedule", {"constant", "step", "cosine"}, t.schedule);
}

/// A file the weights section names: a plain name in the project's directory.
std::optional<std::string> readSiblingName(Reader& r, const json& jw, const char* key,
                                           bool required) {
    auto v = r.str(jw, "weights", key, required);
    if (!v)
        return std::nullopt;
    if (!isPlainFileName(*v)) {
        r.error(strCat("weights.", key),
                strCat("'", validUtf8(v->substr(0, 80)),
                       "' is not a file name in the project's folder (no folders, no '..')"));
        return std::nullopt;
    }
    return v;
}

void readWeights(Reader& r, const json& jw, std::optional<WeightsSection>& out) {
    if (!jw.is_object()) {
        r.error("weights", "expected an object, got " + Reader::typeName(jw));
        return;
    }
    r.unknownKeys(jw, "weights", {"file", "checkpoint", "graph_revision", "step"});
    WeightsSection w;
    auto file = readSiblingName(r, jw, "file", true);
    auto checkpoint = readSiblingName(r, jw, "checkpoint", false);
    auto revision = r.str(jw, "weights", "graph_revision", true);
    auto step = r.integer(jw, "weights", "step", false, 0, std::int64_t{1} << 53);
    if (revision && !isGraphRevision(*revision)) {
        r.error("weights.graph_revision",
                strCat("'", validUtf8(revision->substr(0, 40)), "' is not ", kGraphRevisionDigits,
                       " hexadecimal digits"));
        revision.reset();
    }
    if (!file || !revision)
        return;
    w.file = *file;
    w.checkpoint = checkpoint.value_or("");
    w.graphRevision = *revision;
    w.step = step.value_or(0);
    out = std::move(w);
}

} // namespace

bool isPlainFileName(const std::string& name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
           name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

ProjectLoad parseProject(const std::string& text, const std::string& fileLabel) {
    ProjectLoad out;
    BoundedJson parsed = parseBoundedJson(text);
    if (!parsed.ok()) {
        out.errors.push_back(strCat(fileLabel, ":", parsed.error));
        return out;
    }
    const json doc = std::move(parsed.value);
    Reader r(fileLabel);
    if (!doc.is_object()) {
        r.error("(root)", "expected a JSON object, got " + Reader::typeName(doc));
        out.errors = r.takeErrors();
        return out;
    }
    auto format = r.str(doc, "", "format", true);
    if (format && *format != kProjectFormatName)
        r.error("format", strCat("expected \"", kProjectFormatName, "\", got \"", *format,
                                 "\" — this is not a SegForge project"));
    auto version = r.integer(doc, "", "version", true, 1, 1000000);
    if (version && *version > kProjectFormatVersion)
        r.error("version", strCat("the file has format version ", *version,
                                  ", written by a newer SegForge; this one reads up to version ",
                                  kProjectFormatVersion));
    if (r.failed()) {
        out.errors = r.takeErrors();
        return out;
    }
    r.unknownKeys(doc, "", {"format", "version", "name", "graph", "training", "view", "weights"});

    Project project;
    if (auto name = r.str(doc, "", "name", false))
        project.name = *name;
    if (const json* g = r.field(doc, "", "graph", true)) {
        if (!g->is_object()) {
            r.error("graph", "expected an object, got " + Reader::typeName(*g));
        } else {
            r.unknownKeys(*g, "graph", {"nodes", "edges", "groups"});
            std::set<NodeId> ids;
            if (const json* nodes = r.field(*g, "graph", "nodes", true)) {
                if (!nodes->is_array())
                    r.error("graph.nodes", "expected a list, got " + Reader::typeName(*nodes));
                else
                    for (std::size_t i = 0; i < nodes->size(); ++i)
                        readNode(r, (*nodes)[i], strCat("graph.nodes[", i, "]"), project.graph,
                                 ids);
            }
            if (const json* edges = r.field(*g, "graph", "edges", false)) {
                if (!edges->is_array()) {
                    r.error("graph.edges", "expected a list, got " + Reader::typeName(*edges));
                } else {
                    for (std::size_t i = 0; i < edges->size(); ++i) {
                        const json& je = (*edges)[i];
                        const std::string path = strCat("graph.edges[", i, "]");
                        if (!je.is_object()) {
                            r.error(path, "expected an object, got " + Reader::typeName(je));
                            continue;
                        }
                        auto from = readPort(r, je, path, "from", project.graph);
                        auto to = readPort(r, je, path, "to", project.graph);
                        if (from && to && !project.graph.connect(*from, *to))
                            r.warning(path, "duplicate edge, ignored");
                    }
                }
            }
            // Version 1 had no groups; a version-1 file simply lacks the key.
            if (const json* groups = r.field(*g, "graph", "groups", false)) {
                if (!groups->is_array()) {
                    r.error("graph.groups", "expected a list, got " + Reader::typeName(*groups));
                } else {
                    std::map<NodeId, std::string> owner;
                    for (std::size_t i = 0; i < groups->size(); ++i)
                        readGroup(r, (*groups)[i], strCat("graph.groups[", i, "]"), project.graph,
                                  owner);
                }
            }
        }
    }
    if (const json* t = r.field(doc, "", "training", false))
        readTraining(r, *t, project.training);
    if (const json* v = r.field(doc, "", "view", false)) {
        if (v->is_object())
            project.view = *v;
        else
            r.warning("view", "expected an object, ignored");
    }
    if (const json* w = r.field(doc, "", "weights", false))
        readWeights(r, *w, project.weights);
    out.warnings = r.takeWarnings();
    if (r.failed()) {
        out.errors = r.takeErrors();
        return out;
    }
    out.project = std::move(project);
    return out;
}

ProjectLoad loadProject(const std::filesystem::path& path) {
    std::string error;
    const auto text = readFileText(path, kMaxProjectFileBytes, error);
    if (!text) {
        ProjectLoad out;
        out.errors.push_back(error);
        return out;
    }
    ProjectLoad out = parseProject(*text, path.string());
    if (out.project)
        out.project->sourcePath = path;
    return out;
}

nlohmann::ordered_json projectToJson(const Project& project) {
    ojson nodes = ojson::array();
    for (const auto& [id, node] : project.graph.nodes()) {
        ojson attrs = ojson::object();
        for (const auto& [key, value] : node.attrs)
            attrs[key] = attrToJson(value);
        nodes.push_back({{"id", id},
                         {"op", node.op},
                         {"name", node.name},
                         {"position", {node.position.x, node.position.y}},
                         {"attrs", attrs}});
    }
    ojson edges = ojson::array();
    for (const Edge& e : project.graph.edges()) {
        edges.push_back({{"from", {{"node", e.from.node}, {"port", e.from.port}}},
                         {"to", {{"node", e.to.node}, {"port", e.to.port}}}});
    }
    ojson graph = {{"nodes", nodes}, {"edges", edges}};
    // Written only when there are groups, so a graph without any reads as it always did.
    if (!project.graph.groups().empty()) {
        ojson groups = ojson::array();
        for (const auto& [id, group] : project.graph.groups())
            groups.push_back({{"id", id},
                              {"name", group.name},
                              {"members", group.members},
                              {"collapsed", group.collapsed}});
        graph["groups"] = std::move(groups);
    }
    const TrainingSettings& t = project.training;
    ojson doc = {{"format", kProjectFormatName},
                 {"version", kProjectFormatVersion},
                 {"name", project.name},
                 {"graph", std::move(graph)},
                 {"training",
                  {{"epochs", t.epochs},
                   {"learning_rate", t.learningRate},
                   {"optimizer", t.optimizer},
                   {"schedule", t.schedule},
                   {"momentum", t.momentum},
                   {"weight_decay", t.weightDecay},
                   {"validation_split", t.validationSplit},
                   {"seed", t.seed},
                   {"threads", t.threads}}}};
    if (!project.view.empty())
        doc["view"] = ojson::parse(project.view.dump());
    if (const auto& w = project.weights) {
        ojson jw = {{"file", w->file}};
        if (!w->checkpoint.empty())
            jw["checkpoint"] = w->checkpoint;
        jw["graph_revision"] = w->graphRevision;
        jw["step"] = w->step;
        doc["weights"] = std::move(jw);
    }
    return doc;
}

std::string saveProject(const Project& project, const std::filesystem::path& path) {
    // Temp file, fsync, rename, directory fsync: a crash or a power cut leaves
    // the old project or the new one, never half of either.
    return writeFileAtomically(
        path, projectToJson(project).dump(2, ' ', false, ojson::error_handler_t::replace) + "\n");
}

} // namespace segforge::core
