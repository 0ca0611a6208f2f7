#pragma once

#include "data/channel_grid.hpp"
#include "engine/tensor_stats.hpp"
#include "tensor/tensor.hpp"

#include <QImage>
#include <QString>
#include <QWidget>
#include <map>
#include <optional>
#include <string>

class QCheckBox;
class QCPBars;
class QCustomPlot;
class QGridLayout;
class QLabel;
class QPushButton;
class QSpinBox;
class QStackedWidget;

namespace segforge::ui {

class ImageView;

/// Everything about the tensor on one wire: shape and dtype, summary numbers
/// (NaN/Inf in red when present), a histogram and the feature maps as a
/// channel grid — for one batch sample or the whole batch, and for the
/// gradient on the same wire when the backward pass has produced one.
class TensorInspector : public QWidget {
    Q_OBJECT
public:
    /// Keys of the numbers shown, for statText().
    static constexpr const char* kStatKeys[] = {"count", "min", "max", "mean", "std",
                                                "zeros", "nan", "inf", "l2"};

    explicit TensorInspector(QWidget* parent = nullptr);
    ~TensorInspector() override;

    /// Copies the tensors. nullptr value → a message that there is nothing yet.
    void showTensor(const QString& title, const core::Tensor* value,
                    const core::Tensor* gradient = nullptr);
    void clear();
    QString title() const { return m_title; }
    /// The value's describe(), e.g. "2×4×4×3 f32"; empty when nothing is shown.
    std::string shownShape() const;
    bool hasTensor() const { return m_value.has_value(); }
    bool hasGradient() const { return m_gradient.has_value(); }

    /// Batch sample: -1 = the whole batch.
    void setSample(std::int64_t sample);
    std::int64_t sample() const;
    /// Shows the gradient's numbers instead of the value's (no-op without a gradient).
    void setShowGradient(bool on);
    bool showingGradient() const { return m_showGradient && m_gradient.has_value(); }

    /// Numbers of what is shown now (value or gradient, chosen sample).
    const core::TensorStats& stats() const { return m_stats; }
    /// Text shown for one of kStatKeys, e.g. statText("nan") == "1".
    QString statText(const QString& key) const;
    /// Whether a stat is drawn as an alarm (NaN/Inf counts > 0).
    bool statAlarmed(const QString& key) const;
    QImage channelGridImage() const;
    const core::ChannelGridLayout& channelGridLayout() const { return m_gridLayout; }
    QString message() const;
    QCustomPlot* histogramPlot() const { return m_histogram; }

signals:
    void sampleChanged(std::int64_t sample);

protected:
    void changeEvent(QEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    const core::Tensor* shownTensor() const;
    void refresh();
    void applyColours();
    void replotHistogram();
    void openChannel(int channel);

    QString m_title;
    std::optional<core::Tensor> m_value, m_gradient;
    core::TensorStats m_stats;
    bool m_showGradient = false;
    core::ChannelGridLayout m_gridLayout;

    QLabel* m_titleLabel = nullptr;
    QLabel* m_typeLabel = nullptr;
    QSpinBox* m_sample = nullptr;
    QPushButton* m_valueButton = nullptr;
    QPushButton* m_gradientButton = nullptr;
    QStackedWidget* m_stack = nullptr;
    QLabel* m_message = nullptr;
    std::map<QString, QLabel*> m_statLabels;
    std::map<QString, bool> m_alarms;
    QCustomPlot* m_histogram = nullptr;
    QCPBars* m_bars = nullptr;
    QCheckBox* m_logCounts = nullptr;
    QLabel* m_gridTitle = nullptr;
    ImageView* m_grid = nullptr;
};

/// Two inspectors side by side: wires go to the first until it is pinned,
/// then to the second, so two wires (or a value before and after a step) can
/// be compared.
class TensorInspectorPanel : public QWidget {
    Q_OBJECT
public:
    explicit TensorInspectorPanel(QWidget* parent = nullptr);

    void showWire(const QString& title, const core::Tensor* value, const core::Tensor* gradient);
    void setPinned(bool on);
    bool pinned() const;
    TensorInspector* primary() const { return m_primary; }
    TensorInspector* secondary() const { return m_secondary; }
    QPushButton* pinButton() const { return m_pin; }

private:
    TensorInspector* m_primary;
    TensorInspector* m_secondary;
    QPushButton* m_pin;
    QLabel* m_hint;
};

} // namespace segforge::ui
