#pragma once

class QMenu;
class QWidget;

namespace segforge::ui {

class GraphScene;

/// Adds Group (Ctrl+Shift+G), Ungroup (Ctrl+Alt+G), Collapse/Expand Group
/// (Ctrl+Shift+E), Collapse All, Expand All and Rename Group… to `menu`. Each
/// acts on the scene's selection and is one undoable step. Ctrl+G stays the
/// gradient view's.
void addGroupActions(QMenu* menu, QWidget* window, GraphScene* scene);

} // namespace segforge::ui
