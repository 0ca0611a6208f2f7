#pragma once

#include <QBrush>
#include <QColor>
#include <QGraphicsItem>
#include <QString>

namespace segforge::ui {

/// A short explanation floating on the canvas (why a dragged wire may not go
/// where it points): the same size on screen at every zoom, wrapped, on a
/// background with an accent border, so it reads over wires and nodes.
class HintItem : public QGraphicsItem {
public:
    HintItem();

    void setText(const QString& text);
    QString text() const { return m_text; }
    /// Text colour.
    void setBrush(const QBrush& brush);
    /// Border colour: the verdict (ok, warning, refused).
    void setAccent(const QColor& color);

    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    QString m_text;
    QBrush m_brush;
    QColor m_accent;
    QRectF m_box; ///< in screen pixels (the item ignores the view's zoom)
};

} // namespace segforge::ui
