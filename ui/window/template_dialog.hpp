#pragma once

#include "templates/unet_template.hpp"

#include <QDialog>

class QSpinBox;
class QCheckBox;
class QComboBox;
class QLabel;

namespace segforge::ui {

/// New from template: the U-Net parameters with a live preview of the
/// parameter count and the input sizes that work.
class TemplateDialog : public QDialog {
    Q_OBJECT
public:
    explicit TemplateDialog(QWidget* parent = nullptr);
    core::UNetOptions options() const;
    void setOptions(const core::UNetOptions& options);
    QString previewText() const;

private:
    void updatePreview();

    QSpinBox *m_depth, *m_filters, *m_size, *m_channels, *m_classes;
    QCheckBox* m_batchnorm;
    QComboBox* m_up;
    QLabel* m_preview;
    QPushButton* m_ok = nullptr;
};

} // namespace segforge::ui
