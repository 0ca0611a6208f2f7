#pragma once

#include <QDialog>
#include <QList>
#include <QString>

class QMainWindow;

namespace segforge::ui {

/// Help → Keyboard Shortcuts: every menu action of the window that has a
/// shortcut, read from the QActions themselves, so the list cannot drift from
/// what the keys do.
class ShortcutsDialog : public QDialog {
    Q_OBJECT
public:
    /// One action: its menu path ("Edit › Undo") and its shortcuts ("Ctrl+Z").
    struct Row {
        QString menu;
        QString action;
        QString keys;
    };

    ShortcutsDialog(QMainWindow* window, QWidget* parent = nullptr);

    /// The window's shortcuts, menu by menu, in menu order.
    static QList<Row> collect(QMainWindow* window);
};

} // namespace segforge::ui
