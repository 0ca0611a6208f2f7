#include "window/template_dialog.hpp"

#include "check/checker.hpp"
#include "check/valid_input_sizes.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>

namespace segforge::ui {

TemplateDialog::TemplateDialog(QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(tr("New U-Net from template"));
    auto* form = new QFormLayout(this);
    auto spin = [this](int lo, int hi, int value, int step = 1) {
        auto* s = new QSpinBox(this);
        s->setRange(lo, hi);
        s->setValue(value);
        s->setSingleStep(step);
        connect(s, &QSpinBox::valueChanged, this, &TemplateDialog::updatePreview);
        return s;
    };
    m_depth = spin(1, 6, 4);
    m_filters = spin(1, 1024, 16);
    m_size = spin(8, 8192, 128, 16);
    m_channels = spin(1, 4, 3);
    m_classes = spin(1, 256, 1);
    m_batchnorm = new QCheckBox(tr("BatchNormalization after each convolution"), this);
    connect(m_batchnorm, &QCheckBox::toggled, this, &TemplateDialog::updatePreview);
    m_up = new QComboBox(this);
    m_up->addItem(tr("Conv2DTranspose (learned)"), "transpose");
    m_up->addItem(tr("UpSampling2D (nearest)"), "upsample");
    m_up->addItem(tr("UpSampling2D + 3×3 convolution"), "upsample_conv");
    connect(m_up, &QComboBox::currentIndexChanged, this, &TemplateDialog::updatePreview);
    form->addRow(tr("Depth (poolings)"), m_depth);
    form->addRow(tr("Filters (first level)"), m_filters);
    form->addRow(tr("Input size"), m_size);
    form->addRow(tr("Image channels"), m_channels);
    form->addRow(tr("Classes"), m_classes);
    form->addRow(QString(), m_batchnorm);
    form->addRow(tr("Decoder upsampling"), m_up);
    m_preview = new QLabel(this);
    m_preview->setWordWrap(true);
    m_preview->setMinimumWidth(360);
    form->addRow(m_preview);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);
    updatePreview();
}

core::UNetOptions TemplateDialog::options() const {
    core::UNetOptions o;
    o.depth = m_depth->value();
    o.filters = m_filters->value();
    o.size = m_size->value();
    o.channels = m_channels->value();
    o.classes = m_classes->value();
    o.batchnorm = m_batchnorm->isChecked();
    o.up = core::parseUpMode(m_up->currentData().toString().toStdString())
               .value_or(core::UNetOptions::Up::Transpose);
    return o;
}

void TemplateDialog::setOptions(const core::UNetOptions& o) {
    m_depth->setValue(o.depth);
    m_filters->setValue(o.filters);
    m_size->setValue(o.size);
    m_channels->setValue(o.channels);
    m_classes->setValue(o.classes);
    m_batchnorm->setChecked(o.batchnorm);
    m_up->setCurrentIndex(std::max(0, m_up->findData(QString::fromUtf8(core::upModeName(o.up)))));
}

QString TemplateDialog::previewText() const {
    return m_preview->text();
}

void TemplateDialog::updatePreview() {
    auto made = core::makeUNetProject(options());
    if (auto* err = std::get_if<std::string>(&made)) {
        m_preview->setText("<span style='color:#ff5f5f'>" +
                           QString::fromStdString(*err).toHtmlEscaped() + "</span>");
        if (m_ok)
            m_ok->setEnabled(false);
        return;
    }
    const core::Graph& g = std::get<core::Project>(made).graph;
    core::CheckOptions quick;
    quick.diagnoseInputSize = false;
    const core::CheckResult r = core::checkGraph(g, quick);
    std::int64_t params = 0;
    for (const auto& [id, n] : g.nodes())
        params += r.parameterCount(id);
    // Derived from the template's own sizes (its paddings, poolings, crops), not
    // assumed from its depth.
    const core::InputSizeReport sizes = core::validInputSizes(g, r);
    const auto examples = [](const core::SizeSet& set) {
        QStringList list;
        for (std::int64_t v : set.first(3))
            list << QString::number(v);
        return list.isEmpty() ? QString() : " (" + list.join(", ") + ", …)";
    };
    m_preview->setText(tr("<b>%L1</b> parameters · %2 nodes<br>Input sizes that work: %3%4 · %5")
                           .arg(params)
                           .arg(g.nodeCount())
                           .arg(QString::fromStdString(sizes.height.rule).toHtmlEscaped(),
                                examples(sizes.height.sizes),
                                QString::fromStdString(sizes.width.rule).toHtmlEscaped()));
    if (m_ok)
        m_ok->setEnabled(true);
}

} // namespace segforge::ui
