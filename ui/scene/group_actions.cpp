#include "scene/group_actions.hpp"

#include "document/document.hpp"
#include "layout/level_groups.hpp"
#include "scene/graph_scene.hpp"
#include "scene/group_layer.hpp"

#include <QAction>
#include <QInputDialog>
#include <QMenu>

namespace segforge::ui {

void addGroupActions(QMenu* menu, QWidget* window, GraphScene* scene) {
    auto add = [&](const QString& text, const char* name, QKeySequence key, auto slot) {
        QAction* a = menu->addAction(text);
        a->setObjectName(QString::fromLatin1(name));
        a->setShortcut(key);
        a->setShortcutContext(Qt::WindowShortcut);
        QObject::connect(a, &QAction::triggered, scene, slot);
        return a;
    };
    menu->addSeparator();
    add(QObject::tr("&Group"), "group", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G),
        [scene] { scene->groups()->groupSelection(); })
        ->setToolTip(QObject::tr(
            "Make the selected nodes one named block that collapses to its in/out types"));
    add(QObject::tr("U&ngroup"), "ungroup", QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_G),
        [scene] { scene->groups()->ungroupSelection(); });
    add(QObject::tr("Collapse / &Expand Group"), "toggle-group",
        QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E),
        [scene] { scene->groups()->toggleSelection(); });
    add(QObject::tr("Group by &Level"), "group-by-level", QKeySequence(),
        [scene] {
            Document* doc = scene->document();
            const core::EditScript script = core::levelGroupsScript(doc->graph(), doc->check());
            if (script.empty()) {
                emit scene->statusMessage(
                    doc->graph().groups().empty()
                        ? QObject::tr(
                              "Not a U-Net: no resolution levels going down and back up to group")
                        : QObject::tr("The graph has groups already: ungroup them first to group "
                                      "by level"));
                return;
            }
            doc->applyEdits(script, QObject::tr("Group by level"));
        })
        ->setToolTip(
            QObject::tr("One group per resolution level of a U-Net: enc1…, bottleneck, …dec1"));
    add(QObject::tr("Collapse All Groups"), "collapse-all", QKeySequence(),
        [scene] { scene->groups()->setAllCollapsed(true); });
    add(QObject::tr("Expand All Groups"), "expand-all", QKeySequence(),
        [scene] { scene->groups()->setAllCollapsed(false); });
    add(QObject::tr("Rena&me Group…"), "rename-group", QKeySequence(), [scene, window] {
        const auto ids = scene->groups()->selectedGroups();
        if (ids.size() != 1)
            return;
        const core::Group* group = scene->document()->graph().findGroup(*ids.begin());
        bool ok = false;
        const QString name =
            QInputDialog::getText(window, QObject::tr("Rename Group"), QObject::tr("Name:"),
                                  QLineEdit::Normal, QString::fromStdString(group->name), &ok)
                .trimmed();
        if (ok && !name.isEmpty())
            scene->groups()->rename(*ids.begin(), name.toStdString());
    });
}

} // namespace segforge::ui
