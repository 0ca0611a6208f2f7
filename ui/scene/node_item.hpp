#pragma once

#include "check/check_result.hpp"
#include "graph/graph.hpp"
#include "layout/node_geometry.hpp"
#include "ops/op_schema.hpp"
#include "scene/semantic_zoom.hpp"

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
/// Its box and ports are core::nodeGeometry's, the numbers the layout and the
/// wire router plan with. It draws by semantic zoom (scene/semantic_zoom.hpp):
/// name and output type stay readable at every zoom, errors keep a halo and a
/// badge of a minimum size on screen.
class NodeItem : public QGraphicsObject {
    Q_OBJECT
public:
    enum { Type = UserType + 1 };
    explicit NodeItem(core::NodeId id);

    int type() const override { return Type; }
    core::NodeId nodeId() const { return m_id; }

    void refresh(const core::Node& node, const core::OpSchema* schema,
                 const core::CheckResult& check);

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

    /// The node's box (without ports, glow or plate) in scene coordinates.
    QRectF sceneBodyRect() const;
    /// What the node covers on screen at the view's zoom: its box, or the
    /// name plate standing in for it when zoomed far out (scene coordinates).
    QRectF sceneDrawnRect() const;
    const core::NodeGeometry& geometry() const { return m_geometry; }
    /// The view's zoom, which decides how far the overview plate reaches
    /// beyond the box (the item's bounding rectangle); painting reads the
    /// painter's own scale.
    void setViewZoom(double zoom);
    /// What the last paint drew: the title's text height on screen (pixels,
    /// 0 before any paint) and whether the output type was written on the
    /// node (it is when wire labels collapse into it).
    double paintedTitlePx() const { return m_paintedTitlePx; }
    bool paintedOutputType() const { return m_paintedType; }
    /// The output types the node shows when zoomed out, one line per output
    /// ("N×64×64×32 f32"; "image N×128×128×3 u8" when there are several).
    QStringList outputTypeLines() const { return m_typeLines; }
    QString title() const { return m_title; }
    int severity() const { return m_worst; } ///< 0 none, 1 warning, 2 error

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
    double height() const { return m_geometry.height; }
    QPointF localInput(int i) const;
    QPointF localOutput(int i) const;
    /// The overview plate (name + type at a fixed size on screen), local coordinates.
    QRectF plateRect(double zoom) const;
    /// The title (line -1) or type line `line` elided to `width` in `font`, remembered.
    QString elided(int line, const QFont& font, Qt::TextElideMode mode, double width) const;
    void paintDetailed(QPainter* painter, double lod, Detail detail);
    void paintSummary(QPainter* painter, double lod, const QRectF& box, bool plate);
    void paintMarks(QPainter* painter, double lod, const QRectF& box, double boxRadius);

    core::NodeId m_id;
    QString m_title, m_op, m_subtitle;
    QColor m_category;
    core::NodeGeometry m_geometry;
    QStringList m_typeLines;
    QColor m_typeColor;
    double m_viewZoom = 1;
    double m_paintedTitlePx = 0;
    bool m_paintedType = false;
    std::vector<PortView> m_inputs, m_outputs;
    int m_worst = 0; ///< 0 none, 1 warning, 2 error
    QString m_badgeText;
    std::map<std::string, bool> m_dragAcceptance;
    RunMark m_runMark = RunMark::None;
    bool m_breakpoint = false;
    QString m_signature; ///< what was last painted; refresh() repaints only on change
    /// The plate's widest text line at a pair of font sizes (pixels).
    struct PlateTextWidth {
        int titleSize, typeSize;
        double width;
    };
    mutable std::vector<PlateTextWidth> m_plateTextWidths;
    /// The title (line -1) or a type line elided to a width (thousandths of a pixel).
    struct Elided {
        int line, pixelSize;
        bool bold;
        qint64 width;
        QString text;
    };
    mutable std::vector<Elided> m_elided;
};

} // namespace segforge::ui
