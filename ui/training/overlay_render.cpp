#include "training/overlay_render.hpp"

#include "style/theme.hpp"
#include "training/overlay_panel.hpp"

#include <QFontMetrics>
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace segforge::ui {
namespace overlay {

cv::Mat asRgb(const cv::Mat& image) {
    if (image.empty())
        return image;
    cv::Mat out;
    if (image.type() == CV_8UC3)
        return image;
    if (image.type() == CV_8UC1)
        cv::cvtColor(image, out, cv::COLOR_GRAY2RGB);
    else if (image.type() == CV_8UC4)
        cv::cvtColor(image, out, cv::COLOR_RGBA2RGB);
    else {
        cv::Mat eight;
        image.convertTo(eight, CV_8U);
        return asRgb(eight.channels() == 1 || eight.channels() == 3 ? eight : eight.reshape(1));
    }
    return out;
}

cv::Size fitInside(cv::Size s, int side) {
    if (s.width <= 0 || s.height <= 0)
        return {0, 0};
    const double k = static_cast<double>(side) / std::max(s.width, s.height);
    return {std::max(1, static_cast<int>(std::lround(s.width * k))),
            std::max(1, static_cast<int>(std::lround(s.height * k)))};
}

/// Scores and truth at the image's size (a network may predict at a different resolution).
void conformToImage(OverlaySample& s) {
    s.image = asRgb(s.image);
    if (s.image.empty())
        return;
    if (!s.scores.empty() && s.scores.size() != s.image.size())
        cv::resize(s.scores, s.scores, s.image.size(), 0, 0, cv::INTER_LINEAR);
    if (!s.truth.empty()) {
        if (s.truth.type() != CV_8UC1) {
            cv::Mat t;
            s.truth.convertTo(t, CV_8U);
            if (t.channels() > 1)
                cv::extractChannel(t, t, 0);
            s.truth = t;
        }
        if (s.truth.size() != s.image.size())
            cv::resize(s.truth, s.truth, s.image.size(), 0, 0, cv::INTER_NEAREST);
    }
}

cv::Mat predictedMask(const cv::Mat& scores, double threshold, cv::Size size) {
    if (scores.empty())
        return cv::Mat::zeros(size, CV_8UC1);
    return core::maskFromScores(scores, static_cast<float>(threshold));
}

/// Probabilities as a viridis picture (the "what did the network see" view of a prediction).
cv::Mat scoresPicture(const cv::Mat& scores) {
    if (scores.empty())
        return {};
    cv::Mat p;
    if (scores.channels() == 1)
        p = scores;
    else {
        // Confidence of the winning class.
        std::vector<cv::Mat> planes;
        cv::split(scores, planes);
        p = planes[0].clone();
        for (std::size_t k = 1; k < planes.size(); ++k)
            p = cv::max(p, planes[k]);
    }
    cv::Mat grey, bgr, rgb;
    p.convertTo(grey, CV_8U, 255.0);
    cv::applyColorMap(grey, bgr, cv::COLORMAP_VIRIDIS);
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

QColor diceColour(double dice, const QPalette& p) {
    const bool dark = Theme::isDark(p);
    if (!std::isfinite(dice))
        return p.color(QPalette::Text);
    if (dice < 0.5)
        return dark ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc0, 0x1c, 0x1c);
    if (dice < 0.8)
        return dark ? QColor(0xf2, 0xc1, 0x4e) : QColor(0x9a, 0x62, 0x00);
    return dark ? QColor(0x5c, 0xd0, 0x8a) : QColor(0x1a, 0x7f, 0x37);
}

QString panelTitle(int i) {
    static const char* titles[] = {QT_TRANSLATE_NOOP("OverlayPanel", "Image"),
                                   QT_TRANSLATE_NOOP("OverlayPanel", "Ground truth"),
                                   QT_TRANSLATE_NOOP("OverlayPanel", "Prediction"),
                                   QT_TRANSLATE_NOOP("OverlayPanel", "Errors")};
    return OverlayPanel::tr(titles[i]);
}

QString swatch(const core::Colour& c, const QString& text) {
    return QStringLiteral("<span style='color:rgb(%1,%2,%3)'>&#9632;</span>&nbsp;%4")
        .arg(c[0])
        .arg(c[1])
        .arg(c[2])
        .arg(text);
}

QRect cellRect(const QRect& row, int i, int thumb, int textHeight) {
    return {row.left() + kMargin + i * (thumb + kGap), row.top() + kMargin / 2 + textHeight, thumb,
            thumb};
}

int rowTextHeight(const QFontMetrics& fm) {
    return fm.height() + 4;
}

} // namespace overlay

QImage toQImage(const cv::Mat& rgb) {
    if (rgb.empty())
        return {};
    const cv::Mat m = overlay::asRgb(rgb);
    return QImage(m.data, m.cols, m.rows, static_cast<qsizetype>(m.step), QImage::Format_RGB888)
        .copy();
}

} // namespace segforge::ui
