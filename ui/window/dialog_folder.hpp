#pragma once

#include <QString>

namespace segforge::ui {

/// Where a file dialog opens: the folder of `projectPath` when the project is
/// saved, else the folder the user last chose a file in (remembered per user),
/// else the home folder.
QString dialogFolder(const QString& projectPath);
/// Remembers the folder of a path the user just chose (a file or a folder).
void rememberDialogPath(const QString& chosen);

} // namespace segforge::ui
