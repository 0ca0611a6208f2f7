#include "panels/palette_panel.hpp"

#include "ops/op_registry.hpp"
#include "scene/graph_view.hpp"
#include "style/theme.hpp"

#include <QDrag>
#include <QLineEdit>
#include <QMimeData>
#include <QPainter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace segforge::ui {
namespace {

/// Tree that starts a drag carrying the op name.
class OpTree : public QTreeWidget {
public:
    using QTreeWidget::QTreeWidget;

protected:
    QMimeData* mimeData(const QList<QTreeWidgetItem*>& items) const override {
        if (items.isEmpty() || items.front()->data(0, Qt::UserRole).toString().isEmpty())
            return nullptr;
        auto* mime = new QMimeData;
        mime->setData(kOpMimeType, items.front()->data(0, Qt::UserRole).toString().toUtf8());
        return mime;
    }
};

QIcon swatch(const QColor& color) {
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setBrush(color);
    p.setPen(Qt::NoPen);
    p.drawRoundedRect(QRectF(1, 1, 10, 10), 3, 3);
    return QIcon(pm);
}

} // namespace

PalettePanel::PalettePanel(QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Search ops…"));
    m_search->setClearButtonEnabled(true);
    m_tree = new OpTree(this);
    m_tree->setHeaderHidden(true);
    m_tree->setDragEnabled(true);
    m_tree->setDragDropMode(QAbstractItemView::DragOnly);
    m_tree->setRootIsDecorated(true);
    layout->addWidget(m_search);
    layout->addWidget(m_tree);

    QMap<QString, QTreeWidgetItem*> groups;
    for (const auto& s : core::OpRegistry::builtin().all()) {
        const QString category = QString::fromStdString(s.category);
        if (category == "Interop")
            continue; // placeholders for imported layers are not built by hand
        QTreeWidgetItem*& group = groups[category];
        if (!group) {
            group = new QTreeWidgetItem(m_tree, {category});
            group->setIcon(0, swatch(Theme::current().categoryColor(category)));
            group->setFlags(Qt::ItemIsEnabled);
            QFont f = group->font(0);
            f.setBold(true);
            group->setFont(0, f);
        }
        auto* item = new QTreeWidgetItem(group, {QString::fromStdString(s.name)});
        item->setData(0, Qt::UserRole, QString::fromStdString(s.name));
        item->setToolTip(0, QString::fromStdString(s.description));
    }
    m_tree->expandAll();
    connect(m_search, &QLineEdit::textChanged, this, &PalettePanel::refilter);
    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
        const QString op = item->data(0, Qt::UserRole).toString();
        if (!op.isEmpty())
            emit opActivated(op);
    });
}

void PalettePanel::refilter(const QString& text) {
    for (int g = 0; g < m_tree->topLevelItemCount(); ++g) {
        QTreeWidgetItem* group = m_tree->topLevelItem(g);
        const bool groupMatch = group->text(0).contains(text, Qt::CaseInsensitive);
        int visible = 0;
        for (int i = 0; i < group->childCount(); ++i) {
            QTreeWidgetItem* item = group->child(i);
            const bool show =
                text.isEmpty() || groupMatch || item->text(0).contains(text, Qt::CaseInsensitive);
            item->setHidden(!show);
            visible += show ? 1 : 0;
        }
        group->setHidden(visible == 0);
    }
}

QStringList PalettePanel::visibleOps() const {
    QStringList out;
    for (int g = 0; g < m_tree->topLevelItemCount(); ++g) {
        QTreeWidgetItem* group = m_tree->topLevelItem(g);
        for (int i = 0; i < group->childCount(); ++i) {
            if (!group->isHidden() && !group->child(i)->isHidden())
                out << group->child(i)->text(0);
        }
    }
    return out;
}

} // namespace segforge::ui
