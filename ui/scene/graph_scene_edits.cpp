// The editor's commands on the canvas: each builds its edit script with the
// core functions (graph/edit_scripts) and applies it through the Document as
// one undoable step.
#include "document/document.hpp"
#include "graph/edit_scripts.hpp"
#include "ops/op_registry.hpp"
#include "project/project_file.hpp"
#include "scene/edge_item.hpp"
#include "scene/graph_scene.hpp"
#include "scene/group_item.hpp"
#include "scene/node_item.hpp"

#include <QApplication>
#include <QClipboard>
#include <QMimeData>
#include <set>

namespace segforge::ui {

namespace {
const char* kClipboardMime = "application/x-segforge-nodes";

/// "Conv2DTranspose" → "conv2d_transpose": default names read like the template's.
std::string snakeCase(const std::string& op) {
    std::string out;
    for (std::size_t i = 0; i < op.size(); ++i) {
        const char c = op[i];
        if (std::isupper(static_cast<unsigned char>(c)) && i > 0 &&
            (std::islower(static_cast<unsigned char>(op[i - 1])) ||
             (i + 1 < op.size() && std::islower(static_cast<unsigned char>(op[i + 1])) &&
              !std::isdigit(static_cast<unsigned char>(op[i - 1])))))
            out += '_';
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}
} // namespace

bool GraphScene::connectPorts(const core::PortRef& from, const core::PortRef& to) {
    bool refused = false;
    QString problem = connectionProblem(from, to, &refused);
    if (refused) {
        emit statusMessage(problem);
        return false;
    }
    if (!problem.isEmpty() && hasValidWire(to)) {
        // An incompatible wire never silently replaces a valid connection.
        emit statusMessage(problem + tr(" — the wire connected there stays"));
        return false;
    }
    const core::EditScript edits = core::connectReplacing(m_document->graph(), from, to);
    if (edits.empty())
        return false; // already connected
    return m_document->applyEdits(edits, tr("Connect"));
}

core::NodeId GraphScene::addNodeAt(const std::string& op, QPointF scenePos,
                                   std::optional<core::PortRef> from) {
    const core::OpSchema* schema = core::OpRegistry::builtin().find(op);
    if (!schema)
        return core::kNoNode;
    const core::Graph& g = m_document->graph();
    core::Node node;
    node.id = g.nextNodeId();
    node.op = op;
    node.name = g.uniqueName(snakeCase(op));
    const QPointF p = snapped(scenePos);
    node.position = {p.x(), p.y()};
    core::EditScript edits{core::AddNodeEdit{node}};
    if (from) {
        auto type = m_document->check().typeOf(*from);
        for (const auto& port : schema->inputNames(node)) {
            const auto& ok = schema->acceptedDTypes(port);
            if (!type || std::find(ok.begin(), ok.end(), type->dtype) != ok.end()) {
                edits.push_back(core::ConnectEdit{{*from, {node.id, port}}});
                break;
            }
        }
    }
    if (!m_document->applyEdits(edits, tr("Add %1").arg(QString::fromStdString(op))))
        return core::kNoNode;
    selectNode(node.id);
    return node.id;
}

void GraphScene::deleteSelection() {
    auto nodes = selectedNodes();
    std::vector<core::Edge> wires;
    for (QGraphicsItem* item : selectedItems()) {
        if (item->type() == EdgeItem::Type)
            wires.push_back(static_cast<EdgeItem*>(item)->edge());
        // A collapsed group's box stands for its members: deleting it deletes them.
        if (item->type() == GroupItem::Type && static_cast<GroupItem*>(item)->isCollapsed()) {
            if (const core::Group* g =
                    m_document->graph().findGroup(static_cast<GroupItem*>(item)->groupId()))
                nodes.insert(nodes.end(), g->members.begin(), g->members.end());
        }
    }
    const core::EditScript edits = core::removeSelection(m_document->graph(), nodes, wires);
    if (!edits.empty())
        m_document->applyEdits(edits, nodes.empty() ? tr("Delete wire") : tr("Delete"));
}

void GraphScene::copySelection() {
    auto ids = selectedNodes();
    if (ids.empty())
        return;
    core::Project clip;
    clip.graph = core::extractSubgraph(m_document->graph(), ids);
    auto* mime = new QMimeData;
    const QByteArray json = QByteArray::fromStdString(core::projectToJson(clip).dump());
    mime->setData(kClipboardMime, json);
    mime->setText(QString::fromUtf8(json));
    QApplication::clipboard()->setMimeData(mime);
}

void GraphScene::pasteAt(QPointF scenePos) {
    const QMimeData* mime = QApplication::clipboard()->mimeData();
    if (!mime || !mime->hasFormat(kClipboardMime))
        return;
    core::ProjectLoad load =
        core::parseProject(mime->data(kClipboardMime).toStdString(), "clipboard");
    if (!load.ok() || load.project->graph.nodeCount() == 0)
        return;
    const QPointF origin = snapped(scenePos);
    const core::PasteScript paste =
        core::pasteSubgraph(m_document->graph(), load.project->graph, {origin.x(), origin.y()});
    if (m_document->applyEdits(paste.edits, tr("Paste"))) {
        clearSelection();
        for (auto [old, fresh] : paste.ids) {
            if (NodeItem* item = nodeItem(fresh))
                item->setSelected(true);
        }
    }
}

void GraphScene::duplicateSelection() {
    auto ids = selectedNodes();
    if (ids.empty())
        return;
    const core::Node* first = m_document->graph().findNode(ids.front());
    double minX = first->position.x, minY = first->position.y;
    for (core::NodeId id : ids) {
        minX = std::min(minX, m_document->graph().findNode(id)->position.x);
        minY = std::min(minY, m_document->graph().findNode(id)->position.y);
    }
    copySelection();
    pasteAt(QPointF(minX + 40, minY + 60));
}

} // namespace segforge::ui
