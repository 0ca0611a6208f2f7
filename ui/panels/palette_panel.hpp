#pragma once

#include <QWidget>

class QLineEdit;
class QTreeWidget;

namespace segforge::ui {

/// Ops grouped by the schema registry's categories, with type-to-search.
/// Items drag onto the canvas; double-click (or Enter) adds at the view centre.
class PalettePanel : public QWidget {
    Q_OBJECT
public:
    explicit PalettePanel(QWidget* parent = nullptr);
    QLineEdit* searchField() const { return m_search; }
    QTreeWidget* tree() const { return m_tree; }
    /// Ops currently shown (after filtering), in display order.
    QStringList visibleOps() const;

signals:
    void opActivated(const QString& op);

private:
    void refilter(const QString& text);

    QLineEdit* m_search;
    QTreeWidget* m_tree;
};

} // namespace segforge::ui
