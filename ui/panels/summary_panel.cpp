#include "panels/summary_panel.hpp"

#include "check/valid_input_sizes.hpp"
#include "document/document.hpp"
#include "ops/op_helpers.hpp"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

namespace segforge::ui {

QString formatBytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        ++u;
    }
    return QString::number(bytes, 'f', u == 0 ? 0 : 1) + " " + units[u];
}

SummaryPanel::SummaryPanel(Document* document, QWidget* parent)
    : QWidget(parent)
    , m_document(document) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Batch size"), this));
    m_batch = new QSpinBox(this);
    m_batch->setRange(1, 4096);
    m_batch->setValue(8);
    top->addWidget(m_batch);
    top->addStretch();
    layout->addLayout(top);
    // On a line of its own, wrapping: one long line of totals made the dock (and
    // with it the window) at least 700 px wide.
    m_totals = new QLabel(this);
    m_totals->setWordWrap(true);
    layout->addWidget(m_totals);
    // The input sizes the network carries, derived from its symbolic sizes.
    m_sizes = new QLabel(this);
    m_sizes->setObjectName("summary-input-sizes");
    m_sizes->setWordWrap(true);
    layout->addWidget(m_sizes);
    m_table = new QTableWidget(this);
    m_table->setColumnCount(5);
    m_table->setHorizontalHeaderLabels(
        {tr("Node"), tr("Op"), tr("Output type"), tr("Parameters"), tr("Activation memory")});
    m_table->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    layout->addWidget(m_table);
    connect(document, &Document::changed, this, &SummaryPanel::refresh);
    connect(document, &Document::projectReplaced, this, [this] {
        // Default to the Dataset's batch size.
        for (const auto& [id, n] : m_document->graph().nodes()) {
            if (auto b = core::ops::resolvedAttr(n, "batch_size");
                b && std::get<std::int64_t>(*b) > 0) {
                m_batch->setValue(static_cast<int>(std::get<std::int64_t>(*b)));
                break;
            }
        }
    });
    connect(m_batch, &QSpinBox::valueChanged, this, &SummaryPanel::refresh);
    refresh();
}

QString SummaryPanel::totals() const {
    return m_totals->text();
}

QString SummaryPanel::inputSizes() const {
    return m_sizes->text();
}

void SummaryPanel::refresh() {
    const core::CheckResult& r = m_document->check();
    const core::Graph& g = m_document->graph();
    const double batch = m_batch->value();
    m_table->setRowCount(static_cast<int>(r.order.size()));
    std::int64_t params = 0;
    double activations = 0;
    int row = 0;
    for (core::NodeId id : r.order) {
        const core::Node& n = *g.findNode(id);
        QStringList types;
        double bytes = 0;
        auto it = r.nodes.find(id);
        if (it != r.nodes.end()) {
            for (std::size_t k = 0; k < it->second.outputs.size(); ++k) {
                const auto& t = it->second.outputs[k];
                types << QString::fromStdString(r.label({id, it->second.outputNames[k]}));
                if (t)
                    bytes += static_cast<double>(t->shape.elementsPerSample()) *
                             core::dtypeSize(t->dtype) * batch;
            }
        }
        const auto p = r.parameterCount(id);
        params += p;
        activations += bytes;
        auto set = [&](int col, const QString& text, bool right = false) {
            auto* item = new QTableWidgetItem(text);
            if (right)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(row, col, item);
        };
        set(0, QString::fromStdString(n.name));
        set(1, QString::fromStdString(n.op));
        set(2, types.join(", "));
        set(3, p ? QLocale().toString(static_cast<qlonglong>(p)) : QStringLiteral("0"), true);
        set(4, formatBytes(bytes), true);
        ++row;
    }
    // Training keeps every activation and its gradient, plus weights, their
    // gradients and two Adam moments.
    const double weights = static_cast<double>(params) * 4;
    const double training = 2 * activations + 4 * weights;
    m_totals->setText(
        tr("%L1 parameters (%2) · activations %3 · training step ≈ %4 at batch %5")
            .arg(params)
            .arg(formatBytes(weights), formatBytes(activations), formatBytes(training))
            .arg(m_batch->value()));
    const core::InputSizeReport sizes = core::validInputSizes(g, r);
    m_sizes->setVisible(sizes.applicable);
    if (sizes.applicable)
        m_sizes->setText(tr("Input sizes that work: %1 · %2")
                             .arg(QString::fromStdString(sizes.height.rule),
                                  QString::fromStdString(sizes.width.rule)));
}

} // namespace segforge::ui
