#include "window/dialog_folder.hpp"

#include <QDir>
#include <QFileInfo>
#include <QSettings>

namespace segforge::ui {

namespace {
const char* kLastFolderKey = "dialogs/lastFolder";
} // namespace

QString dialogFolder(const QString& projectPath) {
    if (!projectPath.isEmpty()) {
        const QString dir = QFileInfo(projectPath).absolutePath();
        if (QFileInfo(dir).isDir())
            return dir;
    }
    const QString last = QSettings().value(kLastFolderKey).toString();
    if (!last.isEmpty() && QFileInfo(last).isDir())
        return last;
    return QDir::homePath();
}

void rememberDialogPath(const QString& chosen) {
    if (chosen.isEmpty())
        return;
    const QFileInfo info(chosen);
    QSettings().setValue(kLastFolderKey,
                         info.isDir() ? info.absoluteFilePath() : info.absolutePath());
}

} // namespace segforge::ui
