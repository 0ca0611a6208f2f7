#pragma once

#include "graph/graph.hpp"
#include "ops/op_schema.hpp"

#include <string>
#include <vector>

namespace segforge::core {

/// An axis-aligned rectangle in canvas coordinates (y grows downwards).
struct Rect {
    double x = 0;
    double y = 0;
    double width = 0;
    double height = 0;

    double right() const { return x + width; }
    double bottom() const { return y + height; }
    bool intersects(const Rect& o) const {
        return x < o.right() && o.x < right() && y < o.bottom() && o.y < bottom();
    }
    bool contains(const Point& p) const {
        return p.x >= x && p.x <= right() && p.y >= y && p.y <= bottom();
    }
    friend bool operator==(const Rect&, const Rect&) = default;
};

/// How a node is drawn on the canvas, in canvas units: the one source of the
/// sizes the editor paints and the layout and wire router plan with, so a
/// straight skip wire in the layout is straight on screen.
namespace node_metrics {
inline constexpr double kWidth = 168;
inline constexpr double kTitleHeight = 26;
inline constexpr double kSubtitleHeight = 18;
inline constexpr double kPortRow = 20;
inline constexpr double kBottomPadding = 6;
inline constexpr double kPortRadius = 5.5;
inline constexpr double kGrid = 20;
} // namespace node_metrics

/// A node's box and its ports, relative to the node's position (its top-left corner).
struct NodeGeometry {
    double width = node_metrics::kWidth;
    double height = 0;
    std::vector<std::string> inputs;  ///< input port names, top to bottom
    std::vector<std::string> outputs; ///< output port names, top to bottom

    /// Port centres relative to the node's top-left corner (inputs on the left
    /// edge, outputs on the right).
    Point inputOffset(std::size_t i) const;
    Point outputOffset(std::size_t i) const;
    /// Offset of a port by name; nullopt when the node has no such port.
    std::optional<Point> inputOffset(const std::string& port) const;
    std::optional<Point> outputOffset(const std::string& port) const;
    /// The node's rectangle when placed at `position`.
    Rect rectAt(const Point& position) const { return {position.x, position.y, width, height}; }
};

/// Width of a collapsed group's box: room for an input and an output type per row.
inline constexpr double kCollapsedGroupWidth = 260;
/// Height of a collapsed group's box with `rows` rows of boundary ports.
double collapsedGroupHeight(std::size_t rows);

/// Geometry of `node` as the canvas draws it (unknown op: no ports, one row).
NodeGeometry nodeGeometry(const Node& node, const OpSchema* schema);
/// Same, looking the schema up in the built-in registry.
NodeGeometry nodeGeometry(const Node& node);

} // namespace segforge::core
