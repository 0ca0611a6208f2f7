#include "panels/diagnostic_detail.hpp"

#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace segforge::ui {

namespace {

/// A label that wraps and never asks for more width than it is given: a long
/// word (a path, a shape) would otherwise set the dock's minimum width.
QLabel* wrappingLabel(QWidget* parent) {
    auto* label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    label->setMinimumWidth(1);
    return label;
}

} // namespace

DiagnosticDetail::DiagnosticDetail(QWidget* parent)
    : QWidget(parent) {
    setObjectName("diagnostic-detail");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    m_heading = new QLabel(this);
    m_heading->setTextFormat(Qt::RichText);
    m_heading->setWordWrap(true);
    m_heading->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_heading->setMinimumWidth(1);
    m_message = wrappingLabel(this);
    m_message->setObjectName("diagnostic-message");
    m_where = wrappingLabel(this);
    m_where->setObjectName("diagnostic-node");
    m_fixes = new QWidget(this);
    m_fixLayout = new QVBoxLayout(m_fixes);
    m_fixLayout->setContentsMargins(0, 0, 0, 0);
    m_fixLayout->setSpacing(2);
    layout->addWidget(m_heading);
    layout->addWidget(m_message);
    layout->addWidget(m_where);
    layout->addWidget(m_fixes);
    layout->addStretch();
    showDiagnostic(nullptr, {}, {}, {});
}

QString DiagnosticDetail::messageText() const {
    return m_message->text();
}

QString DiagnosticDetail::whereText() const {
    return m_where->text();
}

void DiagnosticDetail::showDiagnostic(const core::Diagnostic* d, const QString& severity,
                                      const QString& where, const QString& emptyText) {
    // The old rows go later: this may run inside a click on one of their buttons.
    for (QObject* child : m_fixes->children())
        if (child->isWidgetType()) {
            static_cast<QWidget*>(child)->hide();
            child->deleteLater();
        }
    m_buttons.clear();
    if (!d) {
        m_heading->setText(
            QStringLiteral("<i>%1</i>")
                .arg((emptyText.isEmpty() ? tr("Select a row to read it in full.") : emptyText)
                         .toHtmlEscaped()));
        m_message->clear();
        m_message->hide();
        m_where->clear();
        m_where->hide();
        return;
    }
    m_heading->setText(
        QStringLiteral("<b>%1</b> · %2")
            .arg(severity.toHtmlEscaped(), QString::fromStdString(d->code).toHtmlEscaped()));
    m_message->setText(QString::fromStdString(d->message));
    m_message->show();
    m_where->setText(tr("Node: %1").arg(where));
    m_where->show();
    for (std::size_t i = 0; i < d->fixes.size(); ++i) {
        const core::FixIt fix = d->fixes[i];
        auto* row = new QWidget(m_fixes);
        auto* grid = new QGridLayout(row);
        grid->setContentsMargins(0, 0, 0, 0);
        grid->setHorizontalSpacing(6);
        auto* button =
            new QPushButton(d->fixes.size() == 1 ? tr("Fix") : tr("Fix %1").arg(i + 1), row);
        button->setObjectName(QStringLiteral("detail-fix-%1").arg(i));
        button->setToolTip(QString::fromStdString(fix.description));
        auto* text = wrappingLabel(row);
        text->setObjectName(QStringLiteral("detail-fix-text-%1").arg(i));
        text->setText(QString::fromStdString(fix.description));
        grid->addWidget(button, 0, 0, Qt::AlignTop);
        grid->addWidget(text, 0, 1);
        // Why the fix stands where it does: "cause · 'crop3' cuts the row the
        // skip keeps", "costly · crops away 80 % of 'enc2'". Greyed, below it.
        const QString why =
            QString::fromStdString(std::string(core::fixRankName(fix.rank))) +
            (fix.reason.empty() ? QString()
                                : QStringLiteral(" · ") + QString::fromStdString(fix.reason));
        auto* reason = wrappingLabel(row);
        reason->setObjectName(QStringLiteral("detail-fix-reason-%1").arg(i));
        reason->setText(why);
        reason->setForegroundRole(QPalette::PlaceholderText);
        QFont small = reason->font();
        small.setPointSizeF(small.pointSizeF() * 0.9);
        reason->setFont(small);
        grid->addWidget(reason, 1, 1);
        grid->setColumnStretch(1, 1);
        connect(button, &QPushButton::clicked, this, [this, fix] { emit fixRequested(fix); });
        m_fixLayout->addWidget(row);
        m_buttons.push_back(button);
    }
}

} // namespace segforge::ui
