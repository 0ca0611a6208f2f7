#pragma once

#include "training/overlay_render.hpp"

#include <QImage>
#include <QString>
#include <QWidget>
#include <array>
#include <opencv2/core.hpp>
#include <vector>

class QCheckBox;
class QDialog;
class QLabel;
class QListView;
class QSlider;
class QStackedWidget;

namespace segforge::ui {

/// One validation sample with the network's output for it.
struct OverlaySample {
    QString name;
    cv::Mat image;  ///< RGB CV_8UC3 (grey CV_8UC1 is accepted too)
    cv::Mat truth;  ///< CV_8UC1 class indices; binary 0/1 (or 0/255). May be empty.
    cv::Mat scores; ///< CV_32F probability (1 channel) or CV_32FC(K) class scores
};

class OverlayListModel;
class OverlayDetailDialog;

/// Validation samples as rows of image | ground truth | prediction | errors
/// (TP/FP/FN from core/data/overlay), with per-sample Dice at the threshold,
/// worst-first sorting, and opacity/threshold sliders that re-render from the
/// stored scores without running the network again. A click enlarges a row.
class OverlayPanel : public QWidget {
    Q_OBJECT
public:
    /// The four pictures of a row, in column order.
    enum Panel { ImagePanel, TruthPanel, PredictionPanel, ErrorPanel, PanelCount };

    explicit OverlayPanel(QWidget* parent = nullptr);
    ~OverlayPanel() override;

    /// `epoch`: the 1-based epoch the predictions belong to (0 or less: none, e.g. a refresh before
    /// training).
    void setSamples(std::vector<OverlaySample> samples, int epoch);
    void clear();
    int sampleCount() const;
    /// Dice of sample `index` (in the order given to setSamples) at the current threshold.
    double sampleDice(int index) const;
    /// Mean Dice over all samples, NaN when there are none.
    double meanDice() const;
    /// Which classes the Dice counts, as the training metric does (core::ClassPolicy):
    /// "foreground only", "mean over 3 classes, background included". Shown above the rows.
    QString diceDefinition() const { return m_diceDefinition; }
    /// The sentence above the rows that says so.
    QString diceDefinitionText() const;
    int epoch() const { return m_epoch; }

    void setSortWorstFirst(bool on);
    bool sortWorstFirst() const;
    void setThreshold(double threshold); ///< 0..1, for one-channel probabilities
    double threshold() const { return m_threshold; }
    void setOpacity(double opacity); ///< 0..1, blend of the overlay colours
    double opacity() const { return m_opacity; }

    /// Which sample is shown on `row` (sorting applied), its Dice and a thumbnail.
    int sampleAtRow(int row) const;
    double rowDice(int row) const;
    QImage thumbnail(int row, Panel panel) const;

    /// Shows a predicted file (no ground truth): image | prediction | scores, in the detail dialog.
    void showPrediction(const QString& name, const cv::Mat& image, const cv::Mat& scores);
    /// Opens the enlarged view of a row.
    void openRow(int row);
    QDialog* detailDialog() const;
    QListView* view() const { return m_view; }
    bool showingEmptyMessage() const;
    /// Side of the square thumbnail cells, following the view's width.
    int thumbSize() const { return m_thumbSize; }

signals:
    void predictImageRequested(const QString& path);
    void refreshRequested();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    struct Entry {
        OverlaySample sample;
        cv::Mat smallImage, smallTruth, smallScores; // thumbnail-sized copies
        std::array<QImage, PanelCount> thumbs;
        double dice = 0;
    };
    friend class OverlayListModel;
    friend class OverlayRowDelegate;

    void rerender(bool recomputeDice);
    void resort();
    void updateThumbSize();
    void chooseFile();

    std::vector<Entry> m_entries;
    std::vector<int> m_order;
    int m_epoch = -1;
    QString m_diceDefinition;
    double m_threshold = 0.5, m_opacity = 0.5;
    int m_thumbSize = 112;

    QLabel* m_epochLabel = nullptr;
    QLabel* m_diceLabel = nullptr;
    QCheckBox* m_worstFirst = nullptr;
    QSlider* m_thresholdSlider = nullptr;
    QSlider* m_opacitySlider = nullptr;
    QLabel* m_thresholdValue = nullptr;
    QLabel* m_opacityValue = nullptr;
    QStackedWidget* m_stack = nullptr;
    QLabel* m_empty = nullptr;
    QWidget* m_header = nullptr;
    QListView* m_view = nullptr;
    OverlayListModel* m_model = nullptr;
    OverlayDetailDialog* m_detail = nullptr;
};

} // namespace segforge::ui
