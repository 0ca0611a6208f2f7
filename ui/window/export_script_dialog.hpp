#pragma once

#include "export/training_script_file.hpp"

#include <QDialog>
#include <QString>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace segforge::ui {

/// File → Export Training Script…: the framework (PyTorch or Keras), the
/// script's file (NAME_train.py in the project's folder by default) and
/// whether the script starts from the current weights (written beside it as
/// SCRIPT.weights.safetensors).
class ExportScriptDialog : public QDialog {
    Q_OBJECT
public:
    /// `hasWeights`: there are current weights to start from (the option is
    /// offered, and on, only then).
    ExportScriptDialog(const QString& defaultPath, bool hasWeights, QWidget* parent = nullptr);

    core::ScriptFramework framework() const;
    void setFramework(core::ScriptFramework framework);
    QString path() const;
    void setPath(const QString& path);
    bool startFromWeights() const;
    void setStartFromWeights(bool on);

    /// Where the weights go beside the script ("train_unet.weights.safetensors" for train_unet.py).
    static QString weightsPathFor(const QString& scriptPath);

private:
    void browse();
    void updateNote();

    QComboBox* m_framework;
    QLineEdit* m_path;
    QCheckBox* m_weights;
    QLabel* m_note;
    QPushButton* m_ok = nullptr;
};

} // namespace segforge::ui
