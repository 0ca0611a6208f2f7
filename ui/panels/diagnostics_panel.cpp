#include "panels/diagnostics_panel.hpp"

#include "document/document.hpp"
#include "panels/diagnostic_detail.hpp"
#include "style/theme.hpp"
#include "util/str_cat.hpp"

#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QScrollArea>
#include <QSplitter>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace segforge::ui {

DiagnosticsPanel::DiagnosticsPanel(Document* document, QWidget* parent)
    : QWidget(parent)
    , m_document(document) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_summary = new QLabel(this);
    m_tree = new QTreeWidget(this);
    m_tree->setColumnCount(5);
    m_tree->setHeaderLabels({tr("Severity"), tr("Code"), tr("Node"), tr("Message"), tr("Fix")});
    m_tree->setRootIsDecorated(false);
    m_tree->setAlternatingRowColors(true);
    m_tree->setWordWrap(true);
    m_tree->header()->setSectionResizeMode(3, QHeaderView::Stretch);
    m_tree->header()->setStretchLastSection(false);
    m_tree->setColumnWidth(0, 70);
    m_tree->setColumnWidth(1, 170);
    m_tree->setColumnWidth(2, 120);
    m_tree->setColumnWidth(4, 90);
    // The table's Message column is cut in a narrow dock: the pane below shows
    // the chosen row in full, wrapped, and scrolls rather than growing the dock.
    m_detail = new DiagnosticDetail(this);
    auto* detailArea = new QScrollArea(this);
    detailArea->setObjectName("diagnostic-detail-area");
    detailArea->setWidgetResizable(true);
    detailArea->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    detailArea->setFrameShape(QFrame::StyledPanel);
    detailArea->setWidget(m_detail);
    detailArea->setMinimumHeight(60);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->setChildrenCollapsible(false);
    split->addWidget(m_tree);
    split->addWidget(detailArea);
    // Half each: a short dock (1280×720) still reads a three-line message whole.
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({100, 100});
    layout->addWidget(m_summary);
    layout->addWidget(split, 1);
    connect(m_detail, &DiagnosticDetail::fixRequested, this,
            [this](const core::FixIt& fix) { m_document->applyFix(fix); });
    connect(m_tree, &QTreeWidget::currentItemChanged, this, &DiagnosticsPanel::updateDetail);
    connect(document, &Document::changed, this, &DiagnosticsPanel::refresh);
    connect(m_tree, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item) {
        const auto id = item->data(0, Qt::UserRole).toLongLong();
        if (id != core::kNoNode)
            emit nodeActivated(id);
    });
    refresh();
}

int DiagnosticsPanel::rowOf(const QString& code) const {
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        if (m_tree->topLevelItem(i)->text(1) == code)
            return i;
    }
    return -1;
}

QToolButton* DiagnosticsPanel::fixButton(int row) const {
    QTreeWidgetItem* item = m_tree->topLevelItem(row);
    return item ? qobject_cast<QToolButton*>(m_tree->itemWidget(item, 4)) : nullptr;
}

const core::Diagnostic* DiagnosticsPanel::diagnosticAt(int row) const {
    if (m_runtime) {
        if (row == 0)
            return &*m_runtime;
        --row;
    }
    const auto& diags = m_document->check().diagnostics;
    return row >= 0 && row < static_cast<int>(diags.size()) ? &diags[static_cast<std::size_t>(row)]
                                                            : nullptr;
}

bool DiagnosticsPanel::applyFirstFix(int row) {
    const core::Diagnostic* d = diagnosticAt(row);
    if (!d || d->fixes.empty())
        return false;
    const core::FixIt fix = d->fixes.front();
    return m_document->applyFix(fix);
}

void DiagnosticsPanel::setRuntimeDiagnostic(std::optional<core::Diagnostic> diagnostic) {
    m_runtime = std::move(diagnostic);
    refresh();
}

void DiagnosticsPanel::refresh() {
    // The row being read stays chosen across re-checks while its finding remains.
    QString keptCode, keptNode;
    if (QTreeWidgetItem* current = m_tree->currentItem()) {
        keptCode = current->text(1);
        keptNode = current->text(2);
    }
    const QSignalBlocker block(m_tree); // one detail update, after the rows are back
    m_tree->clear();
    const Theme& t = Theme::current();
    const auto& r = m_document->check();
    const std::size_t errors = r.count(core::Severity::Error);
    const std::size_t warnings = r.count(core::Severity::Warning);
    m_summary->setText(
        errors + warnings == 0
            ? tr("✔ No problems: every wire has a type and every consumer accepts it.")
            : tr("%n error(s)", "", static_cast<int>(errors)) + ", " +
                  tr("%n warning(s)", "", static_cast<int>(warnings)));
    if (m_runtime) {
        m_summary->setText(tr("Training stopped on NaN/Inf — see the first row. ") +
                           m_summary->text());
        addRow(*m_runtime, tr("runtime"), t.error);
    }
    for (const core::Diagnostic& d : r.diagnostics)
        addRow(d, QString::fromUtf8(core::severityName(d.severity).data()),
               d.severity == core::Severity::Error ? t.error : t.warning);
    for (int i = 0; i < m_tree->topLevelItemCount() && !keptCode.isEmpty(); ++i) {
        QTreeWidgetItem* item = m_tree->topLevelItem(i);
        if (item->text(1) == keptCode && item->text(2) == keptNode) {
            m_tree->setCurrentItem(item);
            break;
        }
    }
    updateDetail();
}

QString DiagnosticsPanel::whereOf(const core::Diagnostic& d) const {
    const core::Node* n = m_document->graph().findNode(d.node);
    return n ? QString::fromStdString(n->name + (d.port.empty() ? "" : "." + d.port))
             : tr("(graph)");
}

void DiagnosticsPanel::updateDetail() {
    QTreeWidgetItem* current = m_tree->currentItem();
    const int row = current ? m_tree->indexOfTopLevelItem(current) : 0;
    const core::Diagnostic* d = diagnosticAt(row);
    QTreeWidgetItem* item = m_tree->topLevelItem(row);
    m_detail->showDiagnostic(d, item ? item->text(0) : QString(), d ? whereOf(*d) : QString(),
                             tr("Nothing to explain: the check found no problems."));
}

void DiagnosticsPanel::addRow(const core::Diagnostic& d, const QString& severity,
                              const QColor& colour) {
    auto* item = new QTreeWidgetItem(m_tree);
    item->setText(0, severity);
    item->setForeground(0, colour);
    item->setText(1, QString::fromStdString(d.code));
    item->setText(2, whereOf(d));
    item->setText(3, QString::fromStdString(d.message));
    item->setToolTip(3, QString::fromStdString(d.message));
    item->setData(0, Qt::UserRole, static_cast<qlonglong>(d.node));
    if (d.fixes.empty())
        return;
    auto* button = new QToolButton(m_tree);
    const std::vector<core::FixIt> fixes = d.fixes; // the check result changes on apply
    // A top fix that changes what the network computes (costly) is never one
    // click away: the button only opens the list, where its cost is written.
    const bool costly = fixes.front().rank == core::FixRank::Costly;
    button->setText(costly ? tr("Fix…") : tr("Fix"));
    button->setToolTip(QString::fromStdString(
        costly ? core::strCat("Every fix changes what the network computes: ",
                              fixes.front().description, " (", fixes.front().reason, ")")
               : fixes.front().description));
    if (!costly)
        connect(button, &QToolButton::clicked, this,
                [this, fixes] { m_document->applyFix(fixes.front()); });
    if (fixes.size() > 1 || costly) {
        auto* menu = new QMenu(button);
        for (const auto& fix : fixes) {
            menu->addAction(QString::fromStdString(core::strCat(fix.description, "  (",
                                                                core::fixRankName(fix.rank), ")")),
                            this, [this, fix] { m_document->applyFix(fix); });
        }
        button->setMenu(menu);
        button->setPopupMode(costly ? QToolButton::InstantPopup : QToolButton::MenuButtonPopup);
    }
    m_tree->setItemWidget(item, 4, button);
}

} // namespace segforge::ui
