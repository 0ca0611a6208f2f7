#pragma once

#include "graph/graph.hpp"
#include "tensor/tensor_type.hpp"

#include <QFrame>
#include <optional>

class QLineEdit;
class QListWidget;

namespace segforge::ui {

/// Type-to-search list of ops that pops up at the cursor (Tab, double-click,
/// or a wire dropped on empty canvas). With a wire, only ops whose input
/// accepts the wire's dtype are offered.
class QuickAddPopup : public QFrame {
    Q_OBJECT
public:
    explicit QuickAddPopup(QWidget* parent = nullptr);

    /// Opens at a global screen position; `wireType` filters to compatible ops.
    void open(QPoint globalPos, std::optional<core::TensorType> wireType);
    QStringList visibleOps() const;
    QLineEdit* searchField() const { return m_search; }

signals:
    void opChosen(const QString& op);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void refilter();
    void choose();

    QLineEdit* m_search;
    QListWidget* m_list;
    std::optional<core::TensorType> m_wireType;
};

} // namespace segforge::ui
