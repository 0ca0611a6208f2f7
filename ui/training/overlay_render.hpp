#pragma once

#include "data/overlay.hpp"

#include <QColor>
#include <QImage>
#include <QPalette>
#include <QRect>
#include <QString>
#include <opencv2/core.hpp>

class QFontMetrics;

namespace segforge::ui {

struct OverlaySample;

/// RGB CV_8UC3 cv::Mat → QImage (deep copy).
QImage toQImage(const cv::Mat& rgb);

/// The pictures and geometry the prediction rows, their header and the detail
/// dialog share: how a sample becomes thumbnails, and where a row's cells lie.
namespace overlay {

constexpr int kThumbRender = 160; ///< longer side of the cached thumbnail inputs
constexpr int kMargin = 6;        ///< row margin, px
constexpr int kGap = 6;           ///< between a row's cells, px
constexpr int kDetailPanel = 360; ///< a picture's side in the detail dialog

/// Grey, RGBA or other depths → RGB CV_8UC3.
cv::Mat asRgb(const cv::Mat& image);
/// `s` scaled so its longer side is `side`.
cv::Size fitInside(cv::Size s, int side);
/// Scores and truth at the image's size (a network may predict at a different resolution).
void conformToImage(OverlaySample& s);
/// Class indices from scores at `threshold` (zeros at `size` without scores).
cv::Mat predictedMask(const cv::Mat& scores, double threshold, cv::Size size);
/// Probabilities as a viridis picture (the "what did the network see" view of a prediction).
cv::Mat scoresPicture(const cv::Mat& scores);
/// Red, amber or green by how good a Dice is, for the theme of `p`.
QColor diceColour(double dice, const QPalette& p);
/// "Image", "Ground truth", "Prediction", "Errors".
QString panelTitle(int i);
/// A coloured square and a word, as rich text.
QString swatch(const core::Colour& c, const QString& text);
/// The i-th thumbnail cell of a row.
QRect cellRect(const QRect& row, int i, int thumb, int textHeight);
/// Height of a row's name-and-Dice line.
int rowTextHeight(const QFontMetrics& fm);

} // namespace overlay
} // namespace segforge::ui
