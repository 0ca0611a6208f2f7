#include "panels/quick_add_popup.hpp"

#include "ops/op_registry.hpp"

#include <QKeyEvent>
#include <QLineEdit>
#include <QListWidget>
#include <QVBoxLayout>

namespace segforge::ui {

QuickAddPopup::QuickAddPopup(QWidget* parent)
    : QFrame(parent, Qt::Popup) {
    setFrameShape(QFrame::StyledPanel);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Add node… (type to search)"));
    m_search->setClearButtonEnabled(true);
    m_list = new QListWidget(this);
    m_list->setMinimumSize(260, 280);
    layout->addWidget(m_search);
    layout->addWidget(m_list);
    m_search->installEventFilter(this);
    connect(m_search, &QLineEdit::textChanged, this, &QuickAddPopup::refilter);
    connect(m_list, &QListWidget::itemActivated, this, [this] { choose(); });
}

void QuickAddPopup::open(QPoint globalPos, std::optional<core::TensorType> wireType) {
    m_wireType = std::move(wireType);
    m_search->clear();
    refilter();
    move(globalPos);
    show();
    m_search->setFocus();
}

QStringList QuickAddPopup::visibleOps() const {
    QStringList out;
    for (int i = 0; i < m_list->count(); ++i)
        out << m_list->item(i)->data(Qt::UserRole).toString();
    return out;
}

void QuickAddPopup::refilter() {
    m_list->clear();
    const QString needle = m_search->text().trimmed();
    for (const auto& s : core::OpRegistry::builtin().all()) {
        const QString name = QString::fromStdString(s.name);
        const QString category = QString::fromStdString(s.category);
        if (category == "Interop")
            continue; // placeholders for imported layers are not built by hand
        if (!needle.isEmpty() && !name.contains(needle, Qt::CaseInsensitive) &&
            !category.contains(needle, Qt::CaseInsensitive))
            continue;
        if (m_wireType) {
            if (s.inputs.empty())
                continue;
            const auto& ok = s.inputs.front().accepts;
            if (std::find(ok.begin(), ok.end(), m_wireType->dtype) == ok.end())
                continue;
        }
        auto* item = new QListWidgetItem(name + "   —  " + category, m_list);
        item->setData(Qt::UserRole, name);
        item->setToolTip(QString::fromStdString(s.description));
    }
    if (m_list->count() > 0)
        m_list->setCurrentRow(0);
}

void QuickAddPopup::choose() {
    if (QListWidgetItem* item = m_list->currentItem()) {
        const QString op = item->data(Qt::UserRole).toString();
        hide();
        emit opChosen(op);
    }
}

bool QuickAddPopup::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_search && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        switch (key->key()) {
        case Qt::Key_Down:
            m_list->setCurrentRow(std::min(m_list->currentRow() + 1, m_list->count() - 1));
            return true;
        case Qt::Key_Up:
            m_list->setCurrentRow(std::max(m_list->currentRow() - 1, 0));
            return true;
        case Qt::Key_Return:
        case Qt::Key_Enter:
            choose();
            return true;
        case Qt::Key_Escape:
            hide();
            return true;
        default:
            break;
        }
    }
    return QFrame::eventFilter(watched, event);
}

} // namespace segforge::ui
