#pragma once

#include "graph/diagnostic.hpp"

#include <QWidget>
#include <functional>
#include <vector>

class QLabel;
class QPushButton;
class QVBoxLayout;

namespace segforge::ui {

/// One diagnostic in full under the Diagnostics table: the whole message, its
/// node and one Apply button per fix, each beside the fix's description. The
/// table's Message column is cut in a narrow dock; here every line wraps, the
/// text is selectable, and nothing asks the dock to be wider.
class DiagnosticDetail : public QWidget {
    Q_OBJECT
public:
    explicit DiagnosticDetail(QWidget* parent = nullptr);

    /// Shows `d`; `where` names its node and port. Without one it says
    /// `emptyText`. The fixes are copied: the check result they came from
    /// changes on apply.
    void showDiagnostic(const core::Diagnostic* d, const QString& severity, const QString& where,
                        const QString& emptyText = {});

    QString messageText() const;
    QString whereText() const;
    /// The Apply buttons, in the diagnostic's fix order.
    std::vector<QPushButton*> fixButtons() const { return m_buttons; }

signals:
    /// A fix's Apply button was clicked.
    void fixRequested(const core::FixIt& fix);

private:
    QLabel* m_heading;
    QLabel* m_message;
    QLabel* m_where;
    QWidget* m_fixes;
    QVBoxLayout* m_fixLayout;
    std::vector<QPushButton*> m_buttons;
};

} // namespace segforge::ui
