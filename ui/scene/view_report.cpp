#include "scene/view_report.hpp"

#include "document/document.hpp"
#include "graph/graph.hpp"
#include "scene/edge_item.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "scene/group_item.hpp"
#include "scene/node_item.hpp"
#include "scene/semantic_zoom.hpp"

#include <QAbstractButton>
#include <QAbstractScrollArea>
#include <QDockWidget>
#include <QJsonArray>
#include <QLabel>
#include <QMainWindow>
#include <QTabBar>
#include <QToolBar>
#include <QToolButton>
#include <algorithm>
#include <limits>
#include <tuple>

namespace segforge::ui {

namespace {

/// Whether the segment a–b passes through the inside of `r` (Liang–Barsky):
/// running along an edge or touching a corner does not count.
bool segmentCrosses(QPointF a, QPointF b, const QRectF& r) {
    const QRectF in = r.adjusted(1, 1, -1, -1);
    if (in.isEmpty())
        return false;
    double t0 = 0, t1 = 1;
    const double dx = b.x() - a.x(), dy = b.y() - a.y();
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {a.x() - in.left(), in.right() - a.x(), a.y() - in.top(),
                         in.bottom() - a.y()};
    for (int i = 0; i < 4; ++i) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return false;
            continue;
        }
        const double t = q[i] / p[i];
        if (p[i] < 0)
            t0 = std::max(t0, t);
        else
            t1 = std::min(t1, t);
        if (t0 > t1)
            return false;
    }
    return true;
}

QString nameOf(const QWidget* w) {
    if (!w->objectName().isEmpty() && !w->objectName().startsWith("qt_"))
        return w->objectName();
    if (auto* dock = qobject_cast<const QDockWidget*>(w))
        return "dock " + dock->windowTitle();
    if (auto* button = qobject_cast<const QAbstractButton*>(w); button && !button->text().isEmpty())
        return QString(w->metaObject()->className()) + " '" + button->text().remove('&') + "'";
    if (auto* label = qobject_cast<const QLabel*>(w); label && !label->text().isEmpty())
        return "QLabel '" + label->text().left(40) + "'";
    return w->metaObject()->className();
}

bool insideScrollArea(const QWidget* w, const QWidget* window) {
    for (const QWidget* p = w->parentWidget(); p && p != window; p = p->parentWidget()) {
        if (qobject_cast<const QAbstractScrollArea*>(p))
            return true;
    }
    return false;
}

QString edgeName(const GraphScene* scene, const core::Edge& e) {
    auto name = [&](core::NodeId id) {
        const NodeItem* n = scene->nodeItem(id);
        return n ? n->title() : QString::number(id);
    };
    return name(e.from.node) + "→" + name(e.to.node) + ":" + QString::fromStdString(e.to.port);
}

} // namespace

QStringList clippedWidgets(QWidget* window) {
    QStringList out;
    if (!window)
        return out;
    const QRect frame = window->rect().adjusted(-1, -1, 1, 1);
    std::vector<const QWidget*> reported; // a cut dock: its contents are not named again
    auto underReported = [&](const QWidget* w) {
        for (const QWidget* p = w->parentWidget(); p; p = p->parentWidget())
            if (std::find(reported.begin(), reported.end(), p) != reported.end())
                return true;
        return false;
    };
    for (QWidget* w : window->findChildren<QWidget*>()) {
        if (!w->isVisible() || w->window() != window || underReported(w))
            continue;
        const QRect r(w->mapTo(window, QPoint(0, 0)), w->size());
        if (auto* bar = qobject_cast<QToolBar*>(w)) {
            // A tool bar too short for its actions hides the rest behind a » button.
            for (QToolButton* ext :
                 bar->findChildren<QToolButton*>(QStringLiteral("qt_toolbar_ext_button"))) {
                if (ext->isVisible())
                    out << nameOf(w) + " (actions in the overflow menu)";
            }
        }
        // Qt parks the docks behind another dock's tab, and the tab bars of dock
        // groups a layout no longer uses, outside the window, still "visible":
        // nobody sees them, so they are not cut.
        if (!r.intersects(frame)) {
            auto* main = qobject_cast<QMainWindow*>(window);
            auto* dock = qobject_cast<QDockWidget*>(w);
            const bool parkedDock = dock && main && !main->tabifiedDockWidgets(dock).isEmpty();
            const bool parkedTabs = qobject_cast<QTabBar*>(w) && w->parentWidget() == window;
            if (parkedDock || parkedTabs) {
                reported.push_back(w); // nor its contents
                continue;
            }
        }
        if (!insideScrollArea(w, window) && !frame.contains(r)) {
            out << nameOf(w) + " (cut by the window edge)";
            reported.push_back(w);
            continue;
        }
        bool cut = false;
        if (auto* tool = qobject_cast<QToolButton*>(w)) {
            cut = tool->toolButtonStyle() != Qt::ToolButtonIconOnly && !tool->text().isEmpty() &&
                  tool->width() + 1 < tool->sizeHint().width();
        } else if (auto* button = qobject_cast<QAbstractButton*>(w)) {
            cut = !button->text().isEmpty() && button->width() + 1 < button->sizeHint().width();
        } else if (auto* label = qobject_cast<QLabel*>(w)) {
            cut = !label->wordWrap() && !label->text().isEmpty() && label->pixmap().isNull() &&
                  label->width() + 1 < label->sizeHint().width();
        }
        if (cut)
            out << nameOf(w) + " (text cut)";
    }
    out.removeDuplicates();
    return out;
}

ViewReport measureView(GraphView* view, QWidget* window) {
    ViewReport report;
    auto* scene = qobject_cast<GraphScene*>(view->scene());
    report.window = window ? window->size() : view->size();
    report.zoom = view->zoom();
    if (!scene)
        return report;
    const std::vector<EdgeItem*> edges = scene->edgeItems();
    for (EdgeItem* e : edges)
        e->resetPainted();
    (void)view->viewport()->grab(); // paint what the screen shows: the items record what they drew
    const QRectF port = view->mapToScene(view->viewport()->rect()).boundingRect();

    // What a person sees: every visible node and every collapsed group's box,
    // each with the rectangle it paints (zoomed out, its plate).
    struct Shown {
        QString name;
        QRectF body, drawn;
        core::NodeId node = core::kNoNode;
        core::GroupId group = core::kNoGroup;
        double titlePx = 0;
    };
    std::vector<Shown> shown;
    std::vector<NodeItem*> nodes;
    const core::Graph& graph = scene->document()->graph();
    for (QGraphicsItem* item : scene->items()) {
        if (!item->isVisible())
            continue;
        if (item->type() == NodeItem::Type) {
            auto* n = static_cast<NodeItem*>(item);
            nodes.push_back(n);
            shown.push_back({n->title(), n->sceneBodyRect(), n->sceneDrawnRect(), n->nodeId(),
                             core::kNoGroup, n->paintedTitlePx()});
        } else if (item->type() == GroupItem::Type &&
                   static_cast<GroupItem*>(item)->isCollapsed()) {
            auto* g = static_cast<GroupItem*>(item);
            shown.push_back({g->look().name, g->sceneBoxRect(), g->sceneDrawnRect(view->zoom()),
                             core::kNoNode, g->groupId(),
                             semantic_zoom::titlePx(view->zoom()) * view->zoom()});
        }
    }
    std::sort(shown.begin(), shown.end(), [](const Shown& a, const Shown& b) {
        return std::tie(a.group, a.node) < std::tie(b.group, b.node);
    });
    // A node hidden in a collapsed group is shown by the group's box.
    auto shownOf = [&](core::NodeId id) -> const Shown* {
        const core::GroupId g = graph.groupOf(id);
        for (const Shown& s : shown) {
            if (s.node == id || (g != core::kNoGroup && s.group == g))
                return &s;
        }
        return nullptr;
    };
    report.nodesTotal = static_cast<int>(graph.nodeCount());
    double minTitle = std::numeric_limits<double>::infinity();
    for (const auto& [id, node] : graph.nodes()) {
        const Shown* s = shownOf(id);
        if (s && port.contains(s->drawn))
            ++report.nodesVisible;
    }
    for (const Shown& s : shown) {
        if (port.contains(s.drawn))
            minTitle = std::min(minTitle, s.titlePx);
    }
    report.minTitlePx = std::isfinite(minTitle) ? minTitle : 0;
    for (std::size_t i = 0; i < shown.size(); ++i) {
        for (std::size_t j = i + 1; j < shown.size(); ++j) {
            if (shown[i].drawn.intersects(shown[j].drawn)) {
                ++report.nodeOverlaps;
                report.overlapping << shown[i].name + " × " + shown[j].name;
            }
        }
    }

    report.labelsCollapsed = !semantic_zoom::wireLabelsShown(report.zoom);
    std::vector<QRectF> drawnLabels;
    for (EdgeItem* e : edges) {
        if (e->isVisible() && e->paintedLabel())
            drawnLabels.push_back(e->labelRect());
    }
    for (EdgeItem* e : edges) {
        if (!e->isVisible())
            continue;
        const core::Edge& edge = e->edge();
        // Through nodes: every box drawn but the wire's own two ends.
        const Shown* fromShown = shownOf(edge.from.node);
        const Shown* toShown = shownOf(edge.to.node);
        if (fromShown && fromShown == toShown)
            continue; // inside a collapsed group: not drawn
        for (const QPolygonF& poly : e->path().toSubpathPolygons()) {
            bool through = false;
            for (const Shown& box : shown) {
                if (&box == fromShown || &box == toShown)
                    continue;
                for (qsizetype k = 1; k < poly.size() && !through; ++k)
                    through = segmentCrosses(poly[k - 1], poly[k], box.body);
                if (through) {
                    ++report.wiresThroughNodes;
                    report.wiresThrough << edgeName(scene, edge) + " through " + box.name;
                    break;
                }
            }
            if (through)
                break;
        }
        // Labels: only those of wires that touch the view.
        if (!fromShown || !toShown ||
            (!port.intersects(fromShown->body) && !port.intersects(toShown->body)))
            continue;
        const NodeItem* from = scene->nodeItem(edge.from.node);
        bool hidden = false;
        if (fromShown->group != core::kNoGroup || toShown->group != core::kNoGroup) {
            // A collapsed group's box shows the type on each of its ports.
            hidden = false;
        } else if (report.labelsCollapsed) {
            // The type is on the producer's box, one line per output.
            const auto& outs = from->geometry().outputs;
            hidden = !from->paintedOutputType() ||
                     std::find(outs.begin(), outs.end(), edge.from.port) == outs.end();
        } else if (!e->paintedLabel()) {
            hidden = port.contains(e->labelRect().center()) || e->labelRect().isEmpty();
        } else {
            const QRectF label = e->labelRect();
            for (NodeItem* n : nodes)
                hidden = hidden || n->sceneBodyRect().intersects(label);
            int overlapping = 0;
            for (const QRectF& other : drawnLabels)
                overlapping += other.intersects(label) ? 1 : 0;
            hidden = hidden || overlapping > 1; // itself, and another
        }
        if (hidden) {
            ++report.labelsHidden;
            report.hiddenLabels << edgeName(scene, edge);
        }
    }
    report.clippedWidgets = clippedWidgets(window);
    return report;
}

QJsonObject ViewReport::toJson() const {
    return QJsonObject{
        {"window", QJsonArray{window.width(), window.height()}},
        {"zoom", zoom},
        {"nodes_total", nodesTotal},
        {"nodes_visible", nodesVisible},
        {"min_title_px", minTitlePx},
        {"node_overlaps", nodeOverlaps},
        {"wires_through_nodes", wiresThroughNodes},
        {"labels_hidden", labelsHidden},
        {"labels_collapsed", labelsCollapsed},
        {"clipped_widgets", QJsonArray::fromStringList(clippedWidgets)},
        {"overlapping_nodes", QJsonArray::fromStringList(overlapping)},
        {"wires_through", QJsonArray::fromStringList(wiresThrough)},
        {"hidden_labels", QJsonArray::fromStringList(hiddenLabels)},
    };
}

} // namespace segforge::ui
