#pragma once

#include <QWidget>

class QTableWidget;
class QLabel;
class QSpinBox;

namespace segforge::ui {

class Document;

/// Like Keras' model.summary(): node, op, output type, parameters — plus the
/// activation memory of each output for the chosen batch size and the total
/// memory a training step needs (weights, gradients, Adam state, activations).
class SummaryPanel : public QWidget {
    Q_OBJECT
public:
    explicit SummaryPanel(Document* document, QWidget* parent = nullptr);
    QTableWidget* table() const { return m_table; }
    QString totals() const;
    /// "Input sizes that work: H = 16k, k ≥ 1 · W = 16k, k ≥ 1"
    QString inputSizes() const;

private:
    void refresh();

    Document* m_document;
    QSpinBox* m_batch;
    QTableWidget* m_table;
    QLabel* m_totals;
    QLabel* m_sizes;
};

/// "1.5 MiB"
QString formatBytes(double bytes);

} // namespace segforge::ui
