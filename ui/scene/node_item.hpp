#pragma once

#include "check/check_result.hpp"
#include "graph/graph.hpp"
#include "ops/op_schema.hpp"

#include <QGraphicsObject>
#include <optional>

namespace segforge::ui {

/// A port as drawn: its name, the dtype colour of what flows through it, and
/// whether it is an output.
struct PortView {
    QString name;
    QColor color;
    bool known = false; ///< type inferred (else drawn hollow)
};

struct PortHit {
    bool output = false;
    std::string port;
};

/// View of one graph node. Holds only what it needs to paint; the Graph and
/// the CheckResult stay the truth, and refresh() re-reads them after each edit.
class NodeItem : public QGraphicsObject {
    Q_OBJECT
public:
    enum { Type = UserType + 1 };
    explicit NodeItem(core::NodeId id);

    int type() const override { return Type; }
    core::NodeId nodeId() const { return m_id; }

    void refresh(const core::Node& node, const core::OpSchema* schema, const core::CheckResult& check);

    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

    /// Port centre in scene coordinates (nullopt if the node has no such port).
    std::optional<QPointF> inputPos(const std::string& port) const;
    std::optional<QPointF> outputPos(const std::string& port) const;
    /// The port within reach of a scene position, if any.
    std::optional<PortHit> portAt(const QPointF& scenePos) const;

    /// Highlight while a wire is dragged: inputs that accept it (green) or not (red).
    void setDragHighlight(const std::map<std::string, bool>& acceptance);
    bool hasError() const { return m_worst == 2; }
    /// How training sees the node: the one that ran last while stepping (a
    /// glow), or the one that produced NaN/Inf (a thick red outline).
    enum class RunMark { None, Current, NonFinite };
    void setRunMark(RunMark mark);
    RunMark runMark() const { return m_runMark; }
    /// A breakpoint: a red dot left of the title.
    void setBreakpoint(bool on);
    bool hasBreakpoint() const { return m_breakpoint; }

protected:
    QVariant itemChange(GraphicsItemChange change, const QVariant& value) override;

private:
    double height() const;
    QPointF localInput(int i) const;
    QPointF localOutput(int i) const;

    core::NodeId m_id;
    QString m_title, m_op, m_subtitle;
    QColor m_category;
    std::vector<std::string> m_inputNames, m_outputNames;
    std::vector<PortView> m_inputs, m_outputs;
    int m_worst = 0; ///< 0 none, 1 warning, 2 error
    QString m_badgeText;
    std::map<std::string, bool> m_dragAcceptance;
    RunMark m_runMark = RunMark::None;
    bool m_breakpoint = false;
    QString m_signature; ///< what was last painted; refresh() repaints only on change
};

} // namespace segforge::ui
