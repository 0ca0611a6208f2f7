#include "data/overlay.hpp"

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace segforge::core {
namespace {

cv::Mat classIndices(const cv::Mat& mask) {
    if (mask.type() != CV_8UC1)
        throw std::invalid_argument("overlay masks must be CV_8UC1 class indices");
    // A 0/255 mask is a binary mask: 255 means class 1.
    double lo = 0, hi = 0;
    cv::minMaxLoc(mask, &lo, &hi);
    if (hi == 255) {
        cv::Mat values = mask.clone();
        values.setTo(1, mask == 255);
        return values;
    }
    return mask;
}

void blendPixel(cv::Vec3b& px, const Colour& c, double alpha) {
    for (int k = 0; k < 3; ++k)
        px[k] = cv::saturate_cast<std::uint8_t>((1 - alpha) * px[k] +
                                                alpha * c[static_cast<std::size_t>(k)]);
}

void requireSameSize(const cv::Mat& a, const cv::Mat& b) {
    if (a.size() != b.size())
        throw std::invalid_argument("overlay: image and mask sizes differ");
}

} // namespace

std::vector<Colour> classPalette(int classes) {
    std::vector<Colour> out{{0, 0, 0}};
    for (int k = 1; k < classes; ++k) {
        // Golden-angle hues from orange, alternating lightness, stay distinct for many classes.
        const double hue = std::fmod(30.0 + (k - 1) * 137.508, 360.0);
        const double v = k % 2 ? 1.0 : 0.8, s = 0.85;
        const double c = v * s, h = hue / 60.0, x = c * (1 - std::fabs(std::fmod(h, 2.0) - 1));
        double r = 0, g = 0, b = 0;
        switch (static_cast<int>(h)) {
        case 0:
            r = c;
            g = x;
            break;
        case 1:
            r = x;
            g = c;
            break;
        case 2:
            g = c;
            b = x;
            break;
        case 3:
            g = x;
            b = c;
            break;
        case 4:
            r = x;
            b = c;
            break;
        default:
            r = c;
            b = x;
            break;
        }
        const double m = v - c;
        out.push_back({static_cast<std::uint8_t>(std::lround((r + m) * 255)),
                       static_cast<std::uint8_t>(std::lround((g + m) * 255)),
                       static_cast<std::uint8_t>(std::lround((b + m) * 255))});
    }
    return out;
}

cv::Mat overlayMask(const cv::Mat& rgb, const cv::Mat& mask, double alpha,
                    const std::vector<Colour>& palette) {
    requireSameSize(rgb, mask);
    cv::Mat out = rgb.clone();
    const cv::Mat classes = classIndices(mask);
    for (int y = 0; y < out.rows; ++y) {
        cv::Vec3b* px = out.ptr<cv::Vec3b>(y);
        const std::uint8_t* m = classes.ptr<std::uint8_t>(y);
        for (int x = 0; x < out.cols; ++x) {
            if (m[x] != 0 && m[x] < palette.size())
                blendPixel(px[x], palette[m[x]], alpha);
        }
    }
    return out;
}

cv::Mat overlayComparison(const cv::Mat& rgb, const cv::Mat& predicted, const cv::Mat& truth,
                          double alpha) {
    requireSameSize(rgb, predicted);
    requireSameSize(rgb, truth);
    cv::Mat out = rgb.clone();
    for (int y = 0; y < out.rows; ++y) {
        cv::Vec3b* px = out.ptr<cv::Vec3b>(y);
        const std::uint8_t* p = predicted.ptr<std::uint8_t>(y);
        const std::uint8_t* t = truth.ptr<std::uint8_t>(y);
        for (int x = 0; x < out.cols; ++x) {
            const bool pr = p[x] != 0, tr = t[x] != 0;
            if (pr && tr)
                blendPixel(px[x], kTruePositive, alpha);
            else if (pr)
                blendPixel(px[x], kFalsePositive, alpha);
            else if (tr)
                blendPixel(px[x], kFalseNegative, alpha);
        }
    }
    return out;
}

void drawMaskContours(cv::Mat& rgb, const cv::Mat& mask, int thickness,
                      const std::vector<Colour>& palette) {
    requireSameSize(rgb, mask);
    const cv::Mat classes = classIndices(mask);
    double lo = 0, hi = 0;
    cv::minMaxLoc(classes, &lo, &hi);
    for (int k = 1; k <= static_cast<int>(hi) && k < static_cast<int>(palette.size()); ++k) {
        std::vector<std::vector<cv::Point>> contours;
        cv::Mat region = classes == k;
        cv::findContours(region, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
        const Colour& c = palette[static_cast<std::size_t>(k)];
        cv::drawContours(rgb, contours, -1, cv::Scalar(c[0], c[1], c[2]), thickness, cv::LINE_8);
    }
}

cv::Mat maskFromScores(const cv::Mat& scores, float threshold) {
    if (scores.depth() != CV_32F)
        throw std::invalid_argument("scores must be float32");
    cv::Mat out(scores.rows, scores.cols, CV_8UC1);
    const int k = scores.channels();
    for (int y = 0; y < scores.rows; ++y) {
        const float* s = scores.ptr<float>(y);
        std::uint8_t* o = out.ptr<std::uint8_t>(y);
        for (int x = 0; x < scores.cols; ++x, s += k) {
            if (k == 1) {
                o[x] = s[0] >= threshold ? 1 : 0;
                continue;
            }
            int best = 0;
            for (int c = 1; c < k; ++c)
                best = s[c] > s[best] ? c : best;
            o[x] = static_cast<std::uint8_t>(best);
        }
    }
    return out;
}

} // namespace segforge::core
