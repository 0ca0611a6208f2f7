#pragma once

#include "graph/graph.hpp"

#include <QColor>
#include <QGraphicsObject>
#include <QStringList>
#include <optional>
#include <vector>

namespace segforge::ui {

/// View of one group. Expanded: a translucent frame with the group's name
/// behind its member nodes (only its title bar and rim take clicks, so rubber
/// band selection still works inside it). Collapsed: one node-like box at the
/// members' top-left showing the name, one port per boundary port with the type
/// its wire carries, the parameter count, and a badge for the diagnostics of
/// the hidden nodes. Holds only what it paints; GroupLayer fills it from the
/// Graph and the CheckResult.
class GroupItem : public QGraphicsObject {
    Q_OBJECT
public:
    enum { Type = UserType + 3 };

    /// One port of a collapsed group: the member port a crossing wire reaches,
    /// and the type on that wire.
    struct Port {
        core::PortRef member;
        QString typeText; ///< "N×64×64×16 f32", "?" when unknown
        QColor color;     ///< dtype colour (dim when unknown)
        QString label;    ///< "enc1_conv1.input", for the tooltip
    };
    struct Look {
        QString name;
        bool collapsed = false;
        QRectF membersRect; ///< scene rectangle around the members' boxes
        std::vector<Port> inputs, outputs;
        std::int64_t parameters = 0; ///< -1: unknown (a member's types could not be inferred)
        int memberCount = 0;
        int errors = 0, warnings = 0;
        QStringList messages; ///< diagnostics of the members, for the badge's tooltip
    };

    explicit GroupItem(core::GroupId id);
    int type() const override { return Type; }
    core::GroupId groupId() const { return m_id; }

    /// Re-reads what to paint and places the item (frame or box) in the scene.
    void setLook(const Look& look);
    const Look& look() const { return m_look; }
    bool isCollapsed() const { return m_look.collapsed; }
    /// The collapsed box, or the expanded frame, in scene coordinates.
    QRectF sceneBoxRect() const { return mapRectToScene(localRect()); }
    /// An expanded frame's title bar in scene coordinates (empty when collapsed):
    /// wire labels keep off it.
    QRectF sceneTitleRect() const;
    /// What is painted at `zoom`: the box, or zoomed out the plate in its place.
    QRectF sceneDrawnRect(double zoom) const { return mapRectToScene(plateRect(zoom)); }

    /// Where a crossing wire attaches to a collapsed group (scene coordinates);
    /// nullopt when expanded or when `member` is not a boundary port.
    std::optional<QPointF> inputPos(const core::PortRef& member) const;
    std::optional<QPointF> outputPos(const core::PortRef& member) const;

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

    /// The collapsed box's size for a number of port rows (canvas units).
    static QSizeF collapsedSize(std::size_t rows);

signals:
    /// Double-click on the title bar or the collapsed box: collapse or expand.
    void toggleRequested(core::GroupId id);
    /// The user dragged the frame or box by `delta`: its members follow.
    void dragged(core::GroupId id, QPointF delta);

protected:
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) override;
    QVariant itemChange(GraphicsItemChange change, const QVariant& value) override;

private:
    QRectF localRect() const;
    /// The box, or zoomed out the larger plate drawn in its place (local coordinates).
    QRectF plateRect(double zoom) const;
    QPointF portCentre(std::size_t row, bool output) const;
    QColor accent() const;
    void paintExpanded(QPainter* painter, double lod);
    void paintCollapsed(QPainter* painter, double lod);
    void paintBadge(QPainter* painter, double lod, const QRectF& box);

    core::GroupId m_id;
    Look m_look;
    bool m_placing = false; ///< setPos() from setLook, not a drag
    QPointF m_lastPos;      ///< where the last drag step left the item
};

} // namespace segforge::ui
