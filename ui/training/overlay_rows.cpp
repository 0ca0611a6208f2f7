#include "training/overlay_rows.hpp"

#include "training/overlay_panel.hpp"
#include "training/overlay_render.hpp"

#include <QPainter>
#include <cmath>

namespace segforge::ui {

using namespace overlay;

OverlayListModel::OverlayListModel(OverlayPanel* panel)
    : QAbstractListModel(panel)
    , m_panel(panel) {}

int OverlayListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_panel->m_order.size());
}

QVariant OverlayListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const auto& e = m_panel->m_entries[static_cast<std::size_t>(
        m_panel->m_order[static_cast<std::size_t>(index.row())])];
    if (role == Qt::DisplayRole)
        return e.sample.name;
    if (role == Qt::ToolTipRole)
        return OverlayPanel::tr("%1 — Dice %2 — click to enlarge")
            .arg(e.sample.name)
            .arg(e.dice, 0, 'f', 3);
    return {};
}

void OverlayListModel::reset() {
    beginResetModel();
    endResetModel();
}

void OverlayListModel::repaintAll() {
    if (rowCount() > 0)
        emit dataChanged(index(0), index(rowCount() - 1));
}

OverlayRowDelegate::OverlayRowDelegate(OverlayPanel* panel)
    : QStyledItemDelegate(panel)
    , m_panel(panel) {}

QSize OverlayRowDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const {
    const int t = m_panel->thumbSize();
    return {kMargin * 2 + 4 * t + 3 * kGap, rowTextHeight(option.fontMetrics) + t + kMargin};
}

void OverlayRowDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                               const QModelIndex& index) const {
    const int sample = m_panel->sampleAtRow(index.row());
    if (sample < 0)
        return;
    const auto& e = m_panel->m_entries[static_cast<std::size_t>(sample)];
    const QPalette& pal = option.palette;
    painter->save();
    const bool selected = option.state & QStyle::State_Selected;
    const bool hover = option.state & QStyle::State_MouseOver;
    if (selected)
        painter->fillRect(option.rect, pal.color(QPalette::Highlight));
    else if (hover || index.row() % 2)
        painter->fillRect(option.rect, pal.color(QPalette::AlternateBase));

    const int t = m_panel->thumbSize();
    const int th = rowTextHeight(option.fontMetrics);
    const QRect text(option.rect.left() + kMargin, option.rect.top() + 2, 4 * t + 3 * kGap, th - 2);
    const QString dice = std::isfinite(e.dice) ? OverlayPanel::tr("Dice %1").arg(e.dice, 0, 'f', 3)
                                               : OverlayPanel::tr("no truth");
    QFont bold = option.font;
    bold.setBold(true);
    painter->setFont(bold);
    const int diceWidth = QFontMetrics(bold).horizontalAdvance(dice) + 4;
    painter->setPen(selected ? pal.color(QPalette::HighlightedText) : diceColour(e.dice, pal));
    painter->drawText(text, Qt::AlignRight | Qt::AlignVCenter, dice);
    painter->setFont(option.font);
    painter->setPen(pal.color(selected ? QPalette::HighlightedText : QPalette::Text));
    const QRect nameRect = text.adjusted(0, 0, -diceWidth - 6, 0);
    painter->drawText(
        nameRect, Qt::AlignLeft | Qt::AlignVCenter,
        option.fontMetrics.elidedText(e.sample.name, Qt::ElideMiddle, nameRect.width()));

    painter->setRenderHint(QPainter::SmoothPixmapTransform, true);
    for (int i = 0; i < OverlayPanel::PanelCount; ++i) {
        const QRect cell = cellRect(option.rect, i, t, th);
        const QImage& img = e.thumbs[static_cast<std::size_t>(i)];
        if (img.isNull()) {
            painter->fillRect(cell, pal.color(QPalette::Base));
            continue;
        }
        const QSize s = img.size().scaled(cell.size(), Qt::KeepAspectRatio);
        const QRect target(cell.center().x() - s.width() / 2 + 1,
                           cell.center().y() - s.height() / 2 + 1, s.width(), s.height());
        painter->drawImage(target, img);
    }
    painter->restore();
}

OverlayHeader::OverlayHeader(OverlayPanel* panel, QWidget* parent)
    : QWidget(parent)
    , m_panel(panel) {
    setFixedHeight(fontMetrics().height() + 6);
}

void OverlayHeader::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setPen(palette().color(QPalette::Text));
    const int t = m_panel->thumbSize();
    for (int i = 0; i < OverlayPanel::PanelCount; ++i) {
        const QRect r(kMargin + i * (t + kGap), 0, t, height());
        p.drawText(r, Qt::AlignCenter, fontMetrics().elidedText(panelTitle(i), Qt::ElideRight, t));
    }
}

} // namespace segforge::ui
