// layoutGraph: U-Nets laid out as the U of the paper (levels from the inferred
// resolution), anything else layered; never two nodes on top of each other.

#include "check/checker.hpp"
#include "keras/keras_import.hpp"
#include "layout/graph_layout.hpp"
#include "layout/resolution_levels.hpp"
#include "layout/wire_router.hpp"
#include "templates/unet_template.hpp"

#include <cmath>
#include <filesystem>
#include <gtest/gtest.h>

using namespace segforge::core;

namespace {

CheckResult checkOf(const Graph& g) {
    CheckOptions o;
    o.diagnoseInputSize = false;
    o.requireLoss = false;
    return checkGraph(g, o);
}

Graph laidOut(Graph g) {
    const EditOutcome out = applyEdits(g, layoutGraph(g));
    EXPECT_TRUE(out.ok) << out.error;
    return g;
}

/// First pair of nodes whose rectangles overlap, as text; empty when none do.
std::string overlap(const Graph& g) {
    std::vector<std::pair<const Node*, Rect>> rects;
    for (const auto& [id, n] : g.nodes())
        rects.emplace_back(&n, nodeGeometry(n).rectAt(n.position));
    for (std::size_t i = 0; i < rects.size(); ++i)
        for (std::size_t j = i + 1; j < rects.size(); ++j)
            if (rects[i].second.intersects(rects[j].second))
                return rects[i].first->name + " overlaps " + rects[j].first->name;
    return {};
}

double portY(const Graph& g, const PortRef& p, bool output) {
    const Node& n = *g.findNode(p.node);
    const NodeGeometry geo = nodeGeometry(n);
    const auto off = output ? geo.outputOffset(p.port) : geo.inputOffset(p.port);
    EXPECT_TRUE(off) << n.name << "." << p.port;
    return n.position.y + off.value_or(Point{}).y;
}

/// Skip wires as the issue defines them, independently of the layout's own
/// classification: producer and consumer at the same resolution, far apart
/// in dependency order, with a deeper level somewhere between them, merged
/// there with another input (a Concatenate or Add, not a target's Rescale).
std::vector<Edge> skipWires(const Graph& g) {
    const CheckResult check = checkOf(g);
    const auto order = *g.topologicalOrder();
    std::unordered_map<NodeId, std::size_t> rank;
    for (std::size_t i = 0; i < order.size(); ++i)
        rank[order[i]] = i;
    auto height = [&](NodeId id) -> std::int64_t {
        for (const auto& t : check.nodes.at(id).outputs)
            if (t && t->shape.isImage())
                return t->shape.height();
        return 0;
    };
    std::vector<Edge> skips;
    for (const Edge& e : g.edges()) {
        const std::int64_t h = height(e.from.node);
        if (h == 0 || h != height(e.to.node))
            continue;
        std::size_t inputs = 0;
        for (const Edge& other : g.edges())
            inputs += other.to.node == e.to.node;
        if (inputs < 2)
            continue;
        bool deeperBetween = false;
        for (std::size_t i = rank[e.from.node] + 1; i < rank[e.to.node]; ++i) {
            const std::int64_t hi = height(order[i]);
            deeperBetween = deeperBetween || (hi > 0 && hi < h);
        }
        if (deeperBetween)
            skips.push_back(e);
    }
    return skips;
}

/// Routes every wire of the laid-out graph; counts the wires that could not
/// avoid the nodes (the router's fallback crosses one).
int wiresThroughNodes(const Graph& g) {
    std::vector<std::pair<NodeId, Rect>> obstacles;
    for (const auto& [id, n] : g.nodes())
        obstacles.emplace_back(id, nodeGeometry(n).rectAt(n.position));
    WireRouter router(obstacles);
    int bad = 0;
    for (const Edge& e : g.edges()) {
        const Node& a = *g.findNode(e.from.node);
        const Node& b = *g.findNode(e.to.node);
        const auto oa = nodeGeometry(a).outputOffset(e.from.port);
        const auto ob = nodeGeometry(b).inputOffset(e.to.port);
        if (!oa || !ob)
            continue;
        const Point from{a.position.x + oa->x, a.position.y + oa->y};
        const Point to{b.position.x + ob->x, b.position.y + ob->y};
        const WireRoute r = router.route(from, e.from.node, to, e.to.node);
        for (std::size_t k = 1; k < r.size(); ++k) {
            Point p = r[k - 1], q = r[k];
            if (k == 1)
                p.x += 12;
            if (k + 1 == r.size())
                q.x -= 12;
            for (const auto& [id, rect] : obstacles) {
                const bool hit =
                    p.y == q.y
                        ? (p.y > rect.y && p.y < rect.bottom() &&
                           std::min(p.x, q.x) < rect.right() && std::max(p.x, q.x) > rect.x)
                        : (p.x > rect.x && p.x < rect.right() &&
                           std::min(p.y, q.y) < rect.bottom() && std::max(p.y, q.y) > rect.y);
                if (hit) {
                    ++bad;
                    goto nextWire;
                }
            }
        }
    nextWire:;
    }
    return bad;
}

struct TemplateCase {
    int depth;
    bool batchnorm;
    UNetOptions::Up up;
};

class LayoutUNetTemplate : public ::testing::TestWithParam<TemplateCase> {};

TEST_P(LayoutUNetTemplate, IsAUWithHorizontalSkips) {
    UNetOptions o;
    o.depth = GetParam().depth;
    o.batchnorm = GetParam().batchnorm;
    o.up = GetParam().up;
    o.size = 256;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    ASSERT_TRUE(computeLayout(g, checkOf(g)).uShaped);
    g = laidOut(std::move(g));
    EXPECT_EQ(overlap(g), "");

    // Each level: encoder left of the decoder, at the same height (one row),
    // and above every deeper level.
    auto levelNodes = [&](const std::string& prefix) {
        std::vector<const Node*> out;
        for (const auto& [id, n] : g.nodes())
            if (n.name.starts_with(prefix) && n.op != "MaxPool2D" && !n.name.ends_with("_up") &&
                !n.name.ends_with("_upconv"))
                out.push_back(&n);
        return out;
    };
    double previousBottom = -1e18;
    for (int level = 1; level <= o.depth; ++level) {
        const auto enc = levelNodes("enc" + std::to_string(level) + "_");
        const auto dec = levelNodes("dec" + std::to_string(level) + "_");
        ASSERT_FALSE(enc.empty());
        ASSERT_FALSE(dec.empty());
        double encRight = -1e18, decLeft = 1e18, encTop = 1e18, decTop = 1e18, encBottom = -1e18;
        for (const Node* n : enc) {
            encRight = std::max(encRight, n->position.x);
            encTop = std::min(encTop, n->position.y);
            encBottom = std::max(encBottom, n->position.y);
        }
        for (const Node* n : dec) {
            decLeft = std::min(decLeft, n->position.x);
            decTop = std::min(decTop, n->position.y);
        }
        EXPECT_LT(encRight, decLeft) << "level " << level;
        EXPECT_LE(encTop, decTop + 20) << "level " << level;
        EXPECT_GT(encTop, previousBottom) << "level " << level << " is below level " << level - 1;
        previousBottom = encBottom;
    }
    for (const Node* n : levelNodes("bottleneck_"))
        EXPECT_GT(n->position.y, previousBottom) << n->name << " is at the bottom";

    const auto skips = skipWires(g);
    EXPECT_EQ(skips.size(), static_cast<std::size_t>(o.depth));
    for (const Edge& e : skips)
        EXPECT_DOUBLE_EQ(portY(g, e.from, true), portY(g, e.to, false))
            << g.findNode(e.from.node)->name << " → " << g.findNode(e.to.node)->name;

    // Losses and metrics top right, the dataset top left.
    const Node* loss = g.findNodeByName("loss");
    const Node* data = g.findNodeByName("data");
    for (const auto& [id, n] : g.nodes()) {
        EXPECT_LE(n.position.x, loss->position.x) << n.name;
        EXPECT_GE(n.position.x, data->position.x) << n.name;
    }
    EXPECT_EQ(wiresThroughNodes(g), 0);
}

INSTANTIATE_TEST_SUITE_P(Templates, LayoutUNetTemplate,
                         ::testing::Values(TemplateCase{4, false, UNetOptions::Up::Transpose},
                                           TemplateCase{4, true, UNetOptions::Up::Transpose},
                                           TemplateCase{5, false, UNetOptions::Up::Transpose},
                                           TemplateCase{5, true, UNetOptions::Up::Transpose},
                                           TemplateCase{4, true, UNetOptions::Up::UpsampleConv},
                                           TemplateCase{5, false, UNetOptions::Up::Upsample}));

TEST(LayoutResolutionLevels, FromTheInferredSizeNotTheNames) {
    UNetOptions o;
    o.depth = 3;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    // Names that say nothing: the levels must still come out.
    std::vector<NodeId> ids;
    for (const auto& [id, n] : g.nodes())
        ids.push_back(id);
    for (NodeId id : ids)
        g.findNode(id)->name = "n" + std::to_string(id);
    const ResolutionLevels levels = resolutionLevels(g, checkOf(g));
    const Graph named = std::get<Project>(makeUNetProject(o)).graph;
    EXPECT_EQ(levels.outLevel(named.findNodeByName("enc1_conv1")->id), 0);
    EXPECT_EQ(levels.outLevel(named.findNodeByName("enc2_conv1")->id), 1);
    EXPECT_EQ(levels.outLevel(named.findNodeByName("bottleneck_conv2")->id), 3);
    const NodeId pool = named.findNodeByName("enc2_pool")->id;
    EXPECT_EQ(levels.inLevel(pool), 1);
    EXPECT_EQ(levels.outLevel(pool), 2);
    EXPECT_TRUE(levels.changesLevel(named.findNodeByName("dec1_up")->id));
    const auto parts = classifyUShape(g, levels);
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->at(named.findNodeByName("enc2_conv2")->id), UPart::Encoder);
    EXPECT_EQ(parts->at(named.findNodeByName("dec2_conv2")->id), UPart::Decoder);
    EXPECT_EQ(parts->at(named.findNodeByName("bottleneck_conv1")->id), UPart::Bottleneck);
    EXPECT_EQ(parts->at(named.findNodeByName("loss")->id), UPart::Head);
    EXPECT_EQ(parts->at(named.findNodeByName("scale_mask")->id), UPart::Side);
}

TEST(LayoutKeras, ImportedUNetsAreUs) {
    for (const char* file : {"unet_keras3.json", "unet_keras2_concat_bug.json"}) {
        SCOPED_TRACE(file);
        const KerasImport imported =
            importKerasFile(std::filesystem::path(SEGFORGE_TEST_DATA) / "keras" / file);
        ASSERT_TRUE(imported.project);
        Graph g = imported.project->graph;
        const GraphLayout layout = computeLayout(g, checkOf(g));
        g = laidOut(std::move(g));
        EXPECT_EQ(overlap(g), "");
        if (std::string(file) == "unet_keras3.json") {
            EXPECT_TRUE(layout.uShaped);
        }
        for (const Edge& e : skipWires(g))
            if (layout.uShaped) {
                EXPECT_DOUBLE_EQ(portY(g, e.from, true), portY(g, e.to, false))
                    << g.findNode(e.from.node)->name << " → " << g.findNode(e.to.node)->name;
            }
        EXPECT_EQ(wiresThroughNodes(g), 0);
    }
}

TEST(LayoutKeras, PublicFixturesNeverOverlap) {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(
             std::filesystem::path(SEGFORGE_TEST_DATA) / "keras" / "public")) {
        if (entry.path().extension() != ".json")
            continue;
        SCOPED_TRACE(entry.path().filename().string());
        const KerasImport imported = importKerasFile(entry.path());
        if (!imported.project)
            continue;
        ++count;
        const Graph g = laidOut(imported.project->graph);
        EXPECT_EQ(overlap(g), "");
        EXPECT_EQ(wiresThroughNodes(g), 0);
    }
    EXPECT_GE(count, 3);
}

TEST(LayoutHandBuilt, SegNetWithoutSkipsIsStillAU) {
    // Down three times, up three times, no skip connection: the levels alone
    // make the U, the decoder of each level right of its encoder.
    Graph g;
    PortRef x{g.addNode("Input", "in",
                        {{"height", std::int64_t{64}},
                         {"width", std::int64_t{64}},
                         {"channels", std::int64_t{3}}}),
              "output"};
    std::vector<NodeId> enc, dec;
    auto next = [&](const std::string& op, AttrMap attrs) {
        NodeId id = g.addNode(op, g.uniqueName(op), std::move(attrs));
        g.connect(x, {id, "input"});
        x = {id, "output"};
        return id;
    };
    for (int i = 0; i < 3; ++i) {
        enc.push_back(next("Conv2D", {{"padding", std::string("same")}}));
        next("MaxPool2D", {});
    }
    next("Conv2D", {{"padding", std::string("same")}});
    for (int i = 0; i < 3; ++i) {
        next("UpSampling2D", {});
        dec.push_back(next("Conv2D", {{"padding", std::string("same")}}));
    }
    ASSERT_TRUE(computeLayout(g, checkOf(g)).uShaped);
    g = laidOut(std::move(g));
    EXPECT_EQ(overlap(g), "");
    for (int level = 0; level < 3; ++level) {
        const Node& e = *g.findNode(enc[static_cast<std::size_t>(level)]);
        const Node& d = *g.findNode(dec[static_cast<std::size_t>(2 - level)]);
        EXPECT_LT(e.position.x, d.position.x) << "level " << level;
        EXPECT_DOUBLE_EQ(e.position.y, d.position.y) << "level " << level << " is one row";
        if (level > 0) {
            EXPECT_GT(e.position.y,
                      g.findNode(enc[static_cast<std::size_t>(level - 1)])->position.y);
        }
    }
    EXPECT_EQ(wiresThroughNodes(g), 0);
}

TEST(LayoutHandBuilt, ResidualBlocksKeepTheirShortcutStraight) {
    // One level down and up, each level's block residual (x + conv(conv(x))):
    // the shortcut runs along the row, the block's body goes beside it.
    Graph g;
    PortRef x{g.addNode("Input", "in",
                        {{"height", std::int64_t{32}},
                         {"width", std::int64_t{32}},
                         {"channels", std::int64_t{4}}}),
              "output"};
    auto conv = [&](PortRef from) {
        NodeId id = g.addNode("Conv2D", g.uniqueName("conv"),
                              {{"padding", std::string("same")}, {"filters", std::int64_t{4}}});
        g.connect(from, {id, "input"});
        return PortRef{id, "output"};
    };
    auto residual = [&](PortRef from) {
        const PortRef body = conv(conv(conv(from)));
        NodeId add = g.addNode("Add", g.uniqueName("add"));
        g.connect(from, {add, "a"});
        g.connect(body, {add, "b"});
        return PortRef{add, "output"};
    };
    const PortRef skip = residual(x);
    NodeId pool = g.addNode("MaxPool2D", "pool");
    g.connect(skip, {pool, "input"});
    const PortRef deep = residual({pool, "output"});
    NodeId up = g.addNode("UpSampling2D", "up");
    g.connect(deep, {up, "input"});
    NodeId concat = g.addNode("Concatenate", "concat");
    g.connect(skip, {concat, "a"});
    g.connect({up, "output"}, {concat, "b"});
    conv({concat, "output"});
    ASSERT_TRUE(computeLayout(g, checkOf(g)).uShaped);
    g = laidOut(std::move(g));
    EXPECT_EQ(overlap(g), "");
    const auto skips = skipWires(g);
    EXPECT_EQ(skips.size(), 1u);
    for (const Edge& e : skips)
        EXPECT_DOUBLE_EQ(portY(g, e.from, true), portY(g, e.to, false));
    EXPECT_EQ(wiresThroughNodes(g), 0);
}

TEST(LayoutLayered, NonUGraphIsLayeredLeftToRight) {
    // A classifier: resolution only goes down.
    Graph g;
    NodeId in = g.addNode(
        "Input", "in",
        {{"height", std::int64_t{64}}, {"width", std::int64_t{64}}, {"channels", std::int64_t{3}}});
    NodeId prev = in;
    std::vector<NodeId> chain{in};
    for (int i = 0; i < 3; ++i) {
        NodeId c = g.addNode("Conv2D", "c" + std::to_string(i), {{"padding", std::string("same")}});
        g.connect({prev, "output"}, {c, "input"});
        NodeId p = g.addNode("MaxPool2D", "p" + std::to_string(i));
        g.connect({c, "output"}, {p, "input"});
        chain.push_back(c);
        chain.push_back(p);
        prev = p;
    }
    // A branch beside the chain, merged again.
    NodeId a = g.addNode("Conv2D", "a", {{"padding", std::string("same")}});
    NodeId b = g.addNode("Conv2D", "b", {{"padding", std::string("same")}});
    NodeId add = g.addNode("Add", "add");
    g.connect({prev, "output"}, {a, "input"});
    g.connect({prev, "output"}, {b, "input"});
    g.connect({a, "output"}, {add, "a"});
    g.connect({b, "output"}, {add, "b"});
    ASSERT_FALSE(computeLayout(g, checkOf(g)).uShaped);
    g = laidOut(std::move(g));
    EXPECT_EQ(overlap(g), "");
    for (std::size_t i = 1; i < chain.size(); ++i) {
        const Node& l = *g.findNode(chain[i - 1]);
        const Node& r = *g.findNode(chain[i]);
        EXPECT_LT(l.position.x, r.position.x);
        EXPECT_DOUBLE_EQ(l.position.y, r.position.y) << "a chain is one straight line";
    }
    EXPECT_DOUBLE_EQ(g.findNode(a)->position.x, g.findNode(b)->position.x);
    EXPECT_EQ(wiresThroughNodes(g), 0);
}

TEST(LayoutLayered, ResidualShortcutRunsInALaneBesideTheChain) {
    // A classifier-like residual stack (resolution never comes back up).
    Graph g;
    PortRef x{g.addNode("Input", "in",
                        {{"height", std::int64_t{32}},
                         {"width", std::int64_t{32}},
                         {"channels", std::int64_t{4}}}),
              "output"};
    std::vector<NodeId> chain{x.node};
    for (int block = 0; block < 3; ++block) {
        PortRef body = x;
        for (int i = 0; i < 2; ++i) {
            NodeId c = g.addNode("Conv2D", g.uniqueName("conv"),
                                 {{"padding", std::string("same")}, {"filters", std::int64_t{4}}});
            g.connect(body, {c, "input"});
            body = {c, "output"};
            chain.push_back(c);
        }
        NodeId add = g.addNode("Add", g.uniqueName("add"));
        g.connect(body, {add, "a"});
        g.connect(x, {add, "b"});
        chain.push_back(add);
        x = {add, "output"};
    }
    ASSERT_FALSE(computeLayout(g, checkOf(g)).uShaped);
    g = laidOut(std::move(g));
    EXPECT_EQ(overlap(g), "");
    for (NodeId id : chain)
        EXPECT_DOUBLE_EQ(g.findNode(id)->position.y, g.findNode(chain.front())->position.y)
            << g.findNode(id)->name << ": the main chain is one straight line";
    EXPECT_EQ(wiresThroughNodes(g), 0);
}

TEST(LayoutLayered, CyclesAndUnknownOpsStillGetPlaces) {
    Graph g;
    NodeId a = g.addNode("Conv2D", "a");
    NodeId b = g.addNode("NoSuchOp", "b");
    NodeId c = g.addNode("Conv2D", "c");
    g.connect({a, "output"}, {b, "input"});
    g.connect({b, "output"}, {c, "input"});
    g.connect({c, "output"}, {a, "input"});
    for (int i = 0; i < 5; ++i)
        g.addNode("Conv2D", "loose" + std::to_string(i));
    g = laidOut(std::move(g));
    EXPECT_EQ(overlap(g), "");
}

} // namespace
