#include "scene/hint_item.hpp"

#include "style/theme.hpp"

#include <QFontMetricsF>
#include <QPainter>

namespace segforge::ui {

namespace {
constexpr double kMaxWidth = 380; ///< screen pixels before the text wraps
constexpr double kPad = 8;

QFont hintFont() {
    QFont f;
    f.setPixelSize(13);
    return f;
}
} // namespace

HintItem::HintItem()
    : m_brush(Theme::current().text)
    , m_accent(Theme::current().nodeSelected) {
    setFlag(ItemIgnoresTransformations); // readable whatever the zoom
    setZValue(6);
}

void HintItem::setText(const QString& text) {
    if (text == m_text)
        return;
    prepareGeometryChange();
    m_text = text;
    if (text.isEmpty()) {
        m_box = QRectF();
    } else {
        const QRectF r =
            QFontMetricsF(hintFont())
                .boundingRect(QRectF(0, 0, kMaxWidth, 1e4), Qt::TextWordWrap | Qt::AlignLeft, text);
        m_box = QRectF(16, 14, r.width() + 2 * kPad, r.height() + 2 * kPad); // beside the cursor
    }
    update();
}

void HintItem::setBrush(const QBrush& brush) {
    m_brush = brush;
    update();
}

void HintItem::setAccent(const QColor& color) {
    if (color == m_accent)
        return;
    m_accent = color;
    update();
}

QRectF HintItem::boundingRect() const {
    return m_box.adjusted(-2, -2, 2, 2);
}

void HintItem::paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*) {
    if (m_text.isEmpty())
        return;
    const Theme& t = Theme::current();
    painter->setRenderHint(QPainter::Antialiasing);
    QColor back = t.nodeBody;
    back.setAlpha(245);
    painter->setPen(QPen(m_accent, 1.5));
    painter->setBrush(back);
    painter->drawRoundedRect(m_box, 6, 6);
    painter->setFont(hintFont());
    painter->setPen(m_brush.color());
    painter->drawText(m_box.adjusted(kPad, kPad, -kPad, -kPad), Qt::TextWordWrap | Qt::AlignLeft,
                      m_text);
}

} // namespace segforge::ui
