#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>
#include <array>
#include <optional>

class QAction;
class QDockWidget;
class QMainWindow;
class QTabBar;

namespace segforge::ui {

/// One task's set of docks over the same canvas (Blender's workspaces).
enum class Workspace { Build = 0, Train = 1, Inspect = 2 };

/// The window's workspaces: Build (palette, properties, diagnostics), Train
/// (training controls, plots, predictions) and Inspect (tensor inspector).
/// Each is a dock layout of its own, saved per user (QSettings, by workspace
/// name) when it is left or the window closes and restored when it is entered
/// again; the first time, a default layout is made for the window's size that
/// leaves the canvas at least 60 % of the window. Switched by the tab bar and
/// Ctrl+1/2/3.
class Workspaces : public QObject {
    Q_OBJECT
public:
    /// The docks a workspace arranges; any may be shown by hand in any workspace.
    struct Docks {
        QDockWidget* palette = nullptr;
        QDockWidget* properties = nullptr;
        QDockWidget* diagnostics = nullptr;
        QDockWidget* summary = nullptr;
        QDockWidget* training = nullptr;
        QDockWidget* plots = nullptr;
        QDockWidget* predictions = nullptr;
        QDockWidget* inspector = nullptr;
    };

    Workspaces(QMainWindow* window, const Docks& docks);

    /// The tabs (Build | Train | Inspect) that switch workspaces.
    QTabBar* tabBar() const { return m_tabs; }
    /// Ctrl+1/2/3, one per workspace, checkable and exclusive.
    const std::array<QAction*, 3>& actions() const { return m_actions; }
    /// "Switch to Train when training starts" (checkable, remembered per user).
    QAction* autoTrainAction() const { return m_autoTrain; }
    /// "Reset Workspace Layout": the current workspace's default layout.
    QAction* resetAction() const { return m_reset; }

    Workspace current() const { return m_current; }
    /// Saves the current layout, then shows `workspace` as it was left (or its default).
    void switchTo(Workspace workspace);
    /// Lays out the current workspace for the window as it is now: its saved
    /// layout, else the default. Called once the window has its size.
    void arrange();
    /// Drops the current workspace's saved layout and applies the default.
    void resetLayout();
    /// Writes the current layout to the settings (when the window closes).
    void saveCurrent();
    /// Whether layouts are read from and written to the user's settings (off for
    /// scripted runs such as --screenshot, which show the defaults).
    void setPersistent(bool on) { m_persistent = on; }
    /// Training started: switches to Train unless the user turned that off.
    void trainingStarted();

    static QString name(Workspace workspace);
    static std::optional<Workspace> fromName(const QString& name);

signals:
    void switched(Workspace workspace);

private:
    void applyDefault(Workspace workspace);
    QString settingsKey(Workspace workspace) const;

    QMainWindow* m_window;
    Docks m_docks;
    QTabBar* m_tabs;
    std::array<QAction*, 3> m_actions{};
    QAction* m_autoTrain;
    QAction* m_reset;
    Workspace m_current = Workspace::Build;
    std::array<QByteArray, 3> m_states; ///< layouts left this session (the settings may be off)
    bool m_persistent = true;
    bool m_switching = false;
};

} // namespace segforge::ui
