#include "layout/node_geometry.hpp"

#include "ops/op_ports.hpp"
#include "ops/op_registry.hpp"

#include <algorithm>

namespace segforge::core {

using namespace node_metrics;

namespace {

double rowY(std::size_t i) {
    return kTitleHeight + kSubtitleHeight + kPortRow * (static_cast<double>(i) + 0.5);
}

std::optional<std::size_t> indexOf(const std::vector<std::string>& names, const std::string& name) {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end())
        return std::nullopt;
    return static_cast<std::size_t>(it - names.begin());
}

} // namespace

Point NodeGeometry::inputOffset(std::size_t i) const {
    return {0, rowY(i)};
}
Point NodeGeometry::outputOffset(std::size_t i) const {
    return {width, rowY(i)};
}

std::optional<Point> NodeGeometry::inputOffset(const std::string& port) const {
    if (auto i = indexOf(inputs, port))
        return inputOffset(*i);
    return std::nullopt;
}

std::optional<Point> NodeGeometry::outputOffset(const std::string& port) const {
    if (auto i = indexOf(outputs, port))
        return outputOffset(*i);
    return std::nullopt;
}

NodeGeometry nodeGeometry(const Node& node, const OpSchema* schema) {
    NodeGeometry g;
    if (schema) {
        g.inputs = schema->inputNames(node);
        g.outputs = outputNames(*schema, node);
    }
    const std::size_t rows = std::max(g.inputs.size(), g.outputs.size());
    g.height =
        kTitleHeight + kSubtitleHeight + static_cast<double>(rows) * kPortRow + kBottomPadding;
    return g;
}

double collapsedGroupHeight(std::size_t rows) {
    return kTitleHeight + kSubtitleHeight +
           static_cast<double>(std::max<std::size_t>(rows, 1)) * kPortRow + kBottomPadding;
}

NodeGeometry nodeGeometry(const Node& node) {
    return nodeGeometry(node, OpRegistry::builtin().find(node.op));
}

} // namespace segforge::core
