#include "window/export_script_dialog.hpp"

#include "window/dialog_folder.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

namespace segforge::ui {

ExportScriptDialog::ExportScriptDialog(const QString& defaultPath, bool hasWeights, QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(tr("Export training script"));
    setObjectName("export-script-dialog");
    auto* form = new QFormLayout(this);
    m_framework = new QComboBox(this);
    m_framework->setObjectName("framework");
    m_framework->addItem(tr("PyTorch (one CPU, a GPU, or torchrun for several)"),
                         static_cast<int>(core::ScriptFramework::PyTorch));
    m_framework->addItem(tr("Keras 3"), static_cast<int>(core::ScriptFramework::Keras));
    form->addRow(tr("Framework"), m_framework);

    m_path = new QLineEdit(defaultPath, this);
    m_path->setObjectName("output");
    m_path->setMinimumWidth(380);
    auto* browseButton = new QPushButton(tr("Browse…"), this);
    connect(browseButton, &QPushButton::clicked, this, &ExportScriptDialog::browse);
    auto* row = new QHBoxLayout;
    row->addWidget(m_path, 1);
    row->addWidget(browseButton);
    form->addRow(tr("Script"), row);

    m_weights = new QCheckBox(tr("Start from the current weights"), this);
    m_weights->setObjectName("start-from-weights");
    m_weights->setEnabled(hasWeights);
    m_weights->setChecked(hasWeights);
    if (!hasWeights)
        m_weights->setToolTip(tr("No weights yet: the script initialises the network itself"));
    form->addRow(QString(), m_weights);

    m_note = new QLabel(this);
    m_note->setObjectName("note");
    m_note->setWordWrap(true);
    m_note->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(m_note);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    m_ok->setText(tr("Export"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);

    connect(m_framework, &QComboBox::currentIndexChanged, this, &ExportScriptDialog::updateNote);
    connect(m_path, &QLineEdit::textChanged, this, &ExportScriptDialog::updateNote);
    connect(m_weights, &QCheckBox::toggled, this, &ExportScriptDialog::updateNote);
    updateNote();
}

core::ScriptFramework ExportScriptDialog::framework() const {
    return static_cast<core::ScriptFramework>(m_framework->currentData().toInt());
}

void ExportScriptDialog::setFramework(core::ScriptFramework framework) {
    m_framework->setCurrentIndex(m_framework->findData(static_cast<int>(framework)));
}

QString ExportScriptDialog::path() const {
    return m_path->text().trimmed();
}

void ExportScriptDialog::setPath(const QString& path) {
    m_path->setText(path);
}

bool ExportScriptDialog::startFromWeights() const {
    return m_weights->isEnabled() && m_weights->isChecked();
}

void ExportScriptDialog::setStartFromWeights(bool on) {
    m_weights->setChecked(on);
}

QString ExportScriptDialog::weightsPathFor(const QString& scriptPath) {
    const QFileInfo info(scriptPath);
    return info.dir().filePath(info.completeBaseName() + ".weights.safetensors");
}

void ExportScriptDialog::browse() {
    QString start = path();
    if (start.isEmpty())
        start = dialogFolder(QString());
    const QString chosen = QFileDialog::getSaveFileName(this, tr("Export training script"), start,
                                                        tr("Python scripts (*.py)"));
    if (chosen.isEmpty())
        return;
    rememberDialogPath(chosen);
    m_path->setText(chosen.endsWith(".py") ? chosen : chosen + ".py");
}

void ExportScriptDialog::updateNote() {
    const QString script = QFileInfo(path()).fileName();
    m_ok->setEnabled(!script.isEmpty());
    if (script.isEmpty()) {
        m_note->setText(tr("Choose the file to write."));
        return;
    }
    QString note = framework() == core::ScriptFramework::PyTorch
                       ? tr("A self-contained PyTorch script: runs on the CPU, on a GPU when "
                            "there is one, and under torchrun on several.")
                       : tr("A self-contained Keras 3 script.");
    note += "\n";
    note += startFromWeights()
                ? tr("Writes %1 and the current weights as %2 beside it; the script starts "
                     "from them.")
                      .arg(script, QFileInfo(weightsPathFor(path())).fileName())
                : tr("Writes %1; the script initialises the network itself.").arg(script);
    m_note->setText(note);
}

} // namespace segforge::ui
