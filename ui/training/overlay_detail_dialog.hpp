#pragma once

#include <QDialog>
#include <QString>
#include <array>
#include <opencv2/core.hpp>
#include <utility>
#include <vector>

class QGridLayout;
class QLabel;

namespace segforge::ui {

class ImageView;

/// Large view of one sample (2×2: image, truth, prediction, errors) or of a
/// predicted file without truth (image, prediction, scores); pictures scale with the dialog.
class OverlayDetailDialog : public QDialog {
public:
    explicit OverlayDetailDialog(QWidget* parent);
    /// Shows up to four titled pictures (2×2 for four, else one row) and raises the dialog.
    void showPanels(const QString& info, const std::vector<std::pair<QString, cv::Mat>>& panels);

private:
    QLabel* m_info;
    QGridLayout* m_grid;
    std::array<QLabel*, 4> m_titles{};
    std::array<ImageView*, 4> m_pictures{};
};

} // namespace segforge::ui
