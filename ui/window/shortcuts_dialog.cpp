#include "window/shortcuts_dialog.hpp"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <functional>

namespace segforge::ui {

namespace {

/// "&Save As…" → "Save As…" (the mnemonic marks are for menus only).
QString plain(QString text) {
    text.replace("&&", "\x01");
    text.remove('&');
    text.replace("\x01", "&");
    return text;
}

} // namespace

QList<ShortcutsDialog::Row> ShortcutsDialog::collect(QMainWindow* window) {
    QList<Row> rows;
    std::function<void(QMenu*, const QString&)> walk = [&](QMenu* menu, const QString& path) {
        for (QAction* a : menu->actions()) {
            if (a->menu()) {
                walk(a->menu(), path + " › " + plain(a->menu()->title()));
                continue;
            }
            QStringList keys;
            for (const QKeySequence& k : a->shortcuts())
                keys << k.toString(QKeySequence::NativeText);
            if (!keys.isEmpty())
                rows.append({path, plain(a->text()), keys.join(QStringLiteral(", "))});
        }
    };
    for (QAction* top : window->menuBar()->actions())
        if (top->menu())
            walk(top->menu(), plain(top->menu()->title()));
    return rows;
}

ShortcutsDialog::ShortcutsDialog(QMainWindow* window, QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(tr("Keyboard Shortcuts"));
    setObjectName("shortcuts-dialog");
    auto* tree = new QTreeWidget(this);
    tree->setColumnCount(2);
    tree->setHeaderLabels({tr("Action"), tr("Keys")});
    tree->setRootIsDecorated(false);
    tree->setAlternatingRowColors(true);
    QString menu;
    for (const Row& row : collect(window)) {
        if (row.menu != menu) { // a bold heading row per menu
            menu = row.menu;
            auto* heading = new QTreeWidgetItem(tree, {menu});
            QFont f = heading->font(0);
            f.setBold(true);
            heading->setFont(0, f);
            heading->setFirstColumnSpanned(true);
        }
        new QTreeWidgetItem(tree, {"    " + row.action, row.keys});
    }
    // Canvas gestures are not actions; they are listed so the dialog is the whole story.
    auto* canvas = new QTreeWidgetItem(tree, {tr("Canvas")});
    QFont f = canvas->font(0);
    f.setBold(true);
    canvas->setFont(0, f);
    canvas->setFirstColumnSpanned(true);
    new QTreeWidgetItem(tree, {tr("    Add a node here"), tr("Double-click, or Shift+A")});
    new QTreeWidgetItem(tree, {tr("    Pan"), tr("Middle-drag, or Space+drag")});
    new QTreeWidgetItem(tree, {tr("    Zoom"), tr("Wheel")});
    tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    tree->header()->setStretchLastSection(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(tree);
    layout->addWidget(buttons);
    resize(520, 560);
}

} // namespace segforge::ui
