#pragma once

#include <QAbstractListModel>
#include <QStyledItemDelegate>
#include <QWidget>

namespace segforge::ui {

class OverlayPanel;

/// Rows = samples in display order; the delegate reads the panel's entries directly.
class OverlayListModel : public QAbstractListModel {
public:
    explicit OverlayListModel(OverlayPanel* panel);
    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    /// The samples were replaced or re-sorted.
    void reset();
    /// The thumbnails were re-rendered (threshold, opacity).
    void repaintAll();

private:
    OverlayPanel* m_panel;
};

/// Paints a row: name and Dice on top, the four thumbnails below.
class OverlayRowDelegate : public QStyledItemDelegate {
public:
    explicit OverlayRowDelegate(OverlayPanel* panel);
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const override;
    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;

private:
    OverlayPanel* m_panel;
};

/// The four column titles, aligned with the delegate's cells.
class OverlayHeader : public QWidget {
public:
    OverlayHeader(OverlayPanel* panel, QWidget* parent);

protected:
    void paintEvent(QPaintEvent*) override;

private:
    OverlayPanel* m_panel;
};

} // namespace segforge::ui
