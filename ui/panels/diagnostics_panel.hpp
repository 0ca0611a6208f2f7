#pragma once

#include "graph/diagnostic.hpp"
#include "graph/graph.hpp"

#include <QWidget>
#include <optional>

class QTreeWidget;
class QLabel;
class QToolButton;

namespace segforge::ui {

class DiagnosticDetail;
class Document;

/// Every diagnostic of the latest check: severity, code, node, message, and a
/// Fix button (a menu when there are several fixes). Clicking a row selects
/// and centres its node. Under the table, the selected row (else the first)
/// in full: its whole message, its node and a button per fix.
class DiagnosticsPanel : public QWidget {
    Q_OBJECT
public:
    explicit DiagnosticsPanel(Document* document, QWidget* parent = nullptr);
    QTreeWidget* tree() const { return m_tree; }
    /// Applies the first fix of the row (for keyboard use and tests).
    bool applyFirstFix(int row);
    int rowOf(const QString& code) const;
    /// The Fix button of a row (nullptr if that diagnostic has no fix).
    QToolButton* fixButton(int row) const;
    /// A finding of a training run (NaN/Inf), listed first until cleared with nullopt.
    void setRuntimeDiagnostic(std::optional<core::Diagnostic> diagnostic);
    /// The pane under the table that shows one diagnostic in full.
    DiagnosticDetail* detail() const { return m_detail; }

signals:
    void nodeActivated(core::NodeId id);

private:
    void refresh();
    /// The row's diagnostic: the runtime one first, then the check's.
    const core::Diagnostic* diagnosticAt(int row) const;
    void addRow(const core::Diagnostic& d, const QString& severity, const QColor& colour);
    /// Shows the current row's diagnostic (else the first) in the detail pane.
    void updateDetail();
    /// "node.port", or "(graph)" for a graph-level finding.
    QString whereOf(const core::Diagnostic& d) const;

    Document* m_document;
    QTreeWidget* m_tree;
    QLabel* m_summary;
    DiagnosticDetail* m_detail;
    std::optional<core::Diagnostic> m_runtime;
};

} // namespace segforge::ui
