#include "scene/view_report.hpp"

#include "graph/graph.hpp"
#include "scene/edge_item.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "scene/node_item.hpp"
#include "scene/semantic_zoom.hpp"

#include <QAbstractButton>
#include <QAbstractScrollArea>
#include <QDockWidget>
#include <QJsonArray>
#include <QLabel>
#include <QToolBar>
#include <QToolButton>

#include <algorithm>
#include <limits>

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
    const double q[4] = {a.x() - in.left(), in.right() - a.x(), a.y() - in.top(), in.bottom() - a.y()};
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
            for (QToolButton* ext : bar->findChildren<QToolButton*>(QStringLiteral("qt_toolbar_ext_button"))) {
                if (ext->isVisible())
                    out << nameOf(w) + " (actions in the overflow menu)";
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

    std::vector<NodeItem*> nodes;
    for (QGraphicsItem* item : scene->items()) {
        if (item->type() == NodeItem::Type && item->isVisible())
            nodes.push_back(static_cast<NodeItem*>(item));
    }
    std::sort(nodes.begin(), nodes.end(), [](auto* a, auto* b) { return a->nodeId() < b->nodeId(); });
    report.nodesTotal = static_cast<int>(nodes.size());
    double minTitle = std::numeric_limits<double>::infinity();
    for (NodeItem* n : nodes) {
        if (!port.contains(n->sceneDrawnRect()))
            continue;
        ++report.nodesVisible;
        minTitle = std::min(minTitle, n->paintedTitlePx());
    }
    report.minTitlePx = std::isfinite(minTitle) ? minTitle : 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        for (std::size_t j = i + 1; j < nodes.size(); ++j) {
            if (nodes[i]->sceneBodyRect().intersects(nodes[j]->sceneBodyRect())) {
                ++report.nodeOverlaps;
                report.overlapping << nodes[i]->title() + " × " + nodes[j]->title();
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
        // Through nodes: every node box but the wire's own two ends.
        for (const QPolygonF& poly : e->path().toSubpathPolygons()) {
            bool through = false;
            for (NodeItem* n : nodes) {
                if (n->nodeId() == edge.from.node || n->nodeId() == edge.to.node)
                    continue;
                const QRectF box = n->sceneBodyRect();
                for (qsizetype k = 1; k < poly.size() && !through; ++k)
                    through = segmentCrosses(poly[k - 1], poly[k], box);
                if (through) {
                    ++report.wiresThroughNodes;
                    report.wiresThrough << edgeName(scene, edge) + " through " + n->title();
                    break;
                }
            }
            if (through)
                break;
        }
        // Labels: only those of wires that touch the view.
        const NodeItem* from = scene->nodeItem(edge.from.node);
        const NodeItem* to = scene->nodeItem(edge.to.node);
        if (!from || !to || (!port.intersects(from->sceneBodyRect()) && !port.intersects(to->sceneBodyRect())))
            continue;
        bool hidden = false;
        if (report.labelsCollapsed) {
            // The type is on the producer's box, one line per output.
            const auto& outs = from->geometry().outputs;
            hidden = !from->paintedOutputType() || std::find(outs.begin(), outs.end(), edge.from.port) == outs.end();
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
