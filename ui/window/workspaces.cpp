#include "window/workspaces.hpp"

#include <QAction>
#include <QActionGroup>
#include <QDockWidget>
#include <QFontMetrics>
#include <QLayout>
#include <QMainWindow>
#include <QScrollArea>
#include <QSettings>
#include <QTabBar>
#include <algorithm>

namespace segforge::ui {

namespace {

/// saveState()'s version: a layout saved by another dock set is not restored.
constexpr int kStateVersion = 3;
/// Width from which the palette gets a column of its own (left) in Build.
constexpr int kWideWindow = 1600;
/// Column height (the window less its bars) from which Train stacks the
/// training controls, the plots and the predictions; below it the plots and
/// the predictions share a tab group, so the controls show whole.
constexpr int kTallColumn = 860;

/// The height a dock needs to show its content without scrolling at `width`,
/// with room for `extraLines` more lines of text (labels that grow during a run).
int heightToShowWhole(QDockWidget* dock, int width, int extraLines) {
    QWidget* content = dock->widget();
    if (auto* area = qobject_cast<QScrollArea*>(content); area && area->widget())
        content = area->widget();
    const int inner = content->hasHeightForWidth() ? content->heightForWidth(width)
                                                   : content->sizeHint().height();
    const QFontMetrics fm(dock->font());
    const int title = fm.height() + 10; // the dock's title bar
    return inner + title + extraLines * fm.lineSpacing() + 6;
}

int indexOf(Workspace w) {
    return static_cast<int>(w);
}

} // namespace

QString Workspaces::name(Workspace workspace) {
    switch (workspace) {
    case Workspace::Build:
        return QStringLiteral("build");
    case Workspace::Train:
        return QStringLiteral("train");
    case Workspace::Inspect:
        return QStringLiteral("inspect");
    }
    return {};
}

std::optional<Workspace> Workspaces::fromName(const QString& name) {
    for (Workspace w : {Workspace::Build, Workspace::Train, Workspace::Inspect})
        if (Workspaces::name(w) == name.trimmed().toLower())
            return w;
    return std::nullopt;
}

Workspaces::Workspaces(QMainWindow* window, const Docks& docks)
    : QObject(window)
    , m_window(window)
    , m_docks(docks)
    , m_tabs(new QTabBar(window)) {
    m_tabs->setObjectName("workspace-tabs");
    m_tabs->setDrawBase(false);
    m_tabs->setExpanding(false);
    m_tabs->setElideMode(Qt::ElideNone);
    m_tabs->setFocusPolicy(Qt::NoFocus);
    const QStringList titles = {tr("Build"), tr("Train"), tr("Inspect")};
    const QStringList tips = {
        tr("Build the graph: palette, properties, diagnostics"),
        tr("Train: training controls, loss and metric plots, predictions"),
        tr("Inspect tensors: the tensor inspector on the selected or pinned wires")};
    auto* group = new QActionGroup(this);
    for (int i = 0; i < 3; ++i) {
        m_tabs->addTab(titles[i]);
        const QKeySequence key(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i));
        m_tabs->setTabToolTip(
            i, QStringLiteral("%1 (%2)").arg(tips[i], key.toString(QKeySequence::NativeText)));
        auto* a = new QAction(tr("%1 Workspace").arg(titles[i]), window);
        a->setObjectName("workspace-" + name(static_cast<Workspace>(i)));
        a->setShortcut(key);
        a->setShortcutContext(Qt::WindowShortcut);
        a->setCheckable(true);
        a->setStatusTip(tips[i]);
        group->addAction(a);
        connect(a, &QAction::triggered, this, [this, i] { switchTo(static_cast<Workspace>(i)); });
        m_actions[static_cast<std::size_t>(i)] = a;
    }
    m_actions[0]->setChecked(true);
    connect(m_tabs, &QTabBar::currentChanged, this, [this](int i) {
        if (!m_switching && i >= 0)
            switchTo(static_cast<Workspace>(i));
    });

    m_autoTrain = new QAction(tr("Switch to Train When Training Starts"), window);
    m_autoTrain->setCheckable(true);
    m_autoTrain->setChecked(QSettings().value("workspaces/autoTrain", true).toBool());
    connect(m_autoTrain, &QAction::toggled, this,
            [](bool on) { QSettings().setValue("workspaces/autoTrain", on); });
    m_reset = new QAction(tr("Reset Workspace Layout"), window);
    m_reset->setStatusTip(tr("Put the docks of this workspace back where they started"));
    connect(m_reset, &QAction::triggered, this, &Workspaces::resetLayout);
}

QString Workspaces::settingsKey(Workspace workspace) const {
    return QStringLiteral("workspaces/%1/state").arg(name(workspace));
}

void Workspaces::switchTo(Workspace workspace) {
    if (workspace != m_current) {
        saveCurrent();
        m_current = workspace;
        arrange();
    }
    m_switching = true;
    m_tabs->setCurrentIndex(indexOf(workspace));
    m_actions[static_cast<std::size_t>(indexOf(workspace))]->setChecked(true);
    m_switching = false;
    emit switched(workspace);
}

void Workspaces::arrange() {
    QByteArray state = m_states[static_cast<std::size_t>(indexOf(m_current))];
    if (state.isEmpty() && m_persistent)
        state = QSettings().value(settingsKey(m_current)).toByteArray();
    if (state.isEmpty() || !m_window->restoreState(state, kStateVersion))
        applyDefault(m_current);
    // The window's minimum size follows the docks now shown: without this a
    // window not shown yet keeps the minimum of every dock at once (taller than
    // 720 px) and a resize to a laptop's screen is refused.
    if (QLayout* layout = m_window->layout())
        layout->activate();
}

void Workspaces::resetLayout() {
    m_states[static_cast<std::size_t>(indexOf(m_current))].clear();
    if (m_persistent)
        QSettings().remove(settingsKey(m_current));
    applyDefault(m_current);
}

void Workspaces::saveCurrent() {
    const QByteArray state = m_window->saveState(kStateVersion);
    m_states[static_cast<std::size_t>(indexOf(m_current))] = state;
    if (m_persistent)
        QSettings().setValue(settingsKey(m_current), state);
}

void Workspaces::trainingStarted() {
    if (m_autoTrain->isChecked() && m_current != Workspace::Train)
        switchTo(Workspace::Train);
}

void Workspaces::applyDefault(Workspace workspace) {
    const Docks& d = m_docks;
    for (QDockWidget* dock : {d.palette, d.properties, d.diagnostics, d.summary, d.training,
                              d.plots, d.predictions, d.inspector}) {
        dock->setFloating(false);
        m_window->removeDockWidget(dock); // hides it too
    }
    // One column on the right: side docks cost height × width, and height is
    // what a 1280×720 screen lacks, so nothing goes under the canvas. 30 % of
    // the width keeps the canvas above 60 % of the window with the bars.
    const int w = m_window->width();
    // What the column can have: the window less the menu, tool and status bars.
    // Asking resizeDocks for more makes a window that is not shown yet grow.
    const int h = std::max(200, m_window->height() - 120);
    const int column = std::clamp(w * 3 / 10, 280, 440);
    auto put = [this](QDockWidget* dock, Qt::DockWidgetArea area) {
        m_window->addDockWidget(area, dock);
        dock->show();
    };
    auto below = [this](QDockWidget* above, QDockWidget* dock) {
        m_window->splitDockWidget(above, dock, Qt::Vertical);
        dock->show();
    };
    auto tab = [this](QDockWidget* first, QDockWidget* dock) {
        // A dock taken out of the layout floats if tabified directly: put it in the area first.
        m_window->addDockWidget(m_window->dockWidgetArea(first), dock);
        m_window->tabifyDockWidget(first, dock);
        dock->show();
    };
    switch (workspace) {
    case Workspace::Build:
        put(d.properties, Qt::RightDockWidgetArea);
        below(d.properties, d.diagnostics);
        tab(d.diagnostics, d.summary);
        if (w >= kWideWindow) {
            put(d.palette, Qt::LeftDockWidgetArea);
            m_window->resizeDocks({d.palette}, {200}, Qt::Horizontal);
        } else {
            tab(d.properties, d.palette); // the quick-add popup (Shift+A) is always at hand
        }
        d.properties->raise();
        d.diagnostics->raise();
        m_window->resizeDocks({d.properties}, {column}, Qt::Horizontal);
        m_window->resizeDocks({d.properties, d.diagnostics}, {h * 55 / 100, h * 45 / 100},
                              Qt::Vertical);
        break;
    case Workspace::Train:
        put(d.training, Qt::RightDockWidgetArea);
        below(d.training, d.plots);
        m_window->resizeDocks({d.training}, {column}, Qt::Horizontal);
        if (h >= kTallColumn) {
            below(d.plots, d.predictions);
            const int controls = std::max(h * 22 / 100, heightToShowWhole(d.training, column, 3));
            const int rest = h - controls;
            m_window->resizeDocks({d.training, d.plots, d.predictions},
                                  {controls, rest * 56 / 100, rest * 44 / 100}, Qt::Vertical);
        } else {
            // A laptop screen: three docks stacked would leave each too short to
            // use (the controls scrolled, the plots a few pixels tall).
            tab(d.plots, d.predictions);
            d.plots->raise();
            // Three more lines: the last run's data and the last epoch's numbers appear later.
            const int controls = std::min(h / 2, heightToShowWhole(d.training, column, 3));
            m_window->resizeDocks({d.training, d.plots}, {controls, h - controls}, Qt::Vertical);
        }
        break;
    case Workspace::Inspect:
        // The diagnostics below: a NaN stop is reported there and opens this workspace.
        put(d.inspector, Qt::RightDockWidgetArea);
        below(d.inspector, d.diagnostics);
        m_window->resizeDocks({d.inspector}, {column}, Qt::Horizontal);
        m_window->resizeDocks({d.inspector, d.diagnostics}, {h * 68 / 100, h * 32 / 100},
                              Qt::Vertical);
        break;
    }
}

} // namespace segforge::ui
