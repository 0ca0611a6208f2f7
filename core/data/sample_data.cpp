#include "data/sample_data.hpp"

#include "data/image_io.hpp"
#include "util/str_cat.hpp"

#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace segforge::core {
namespace {

/// Smooth noise in [0, 1]: a coarse random grid upsampled with cubic interpolation.
cv::Mat smoothNoise(cv::RNG& rng, int size, int cells) {
    cv::Mat grid(cells, cells, CV_32F);
    rng.fill(grid, cv::RNG::UNIFORM, 0.0, 1.0);
    cv::Mat out;
    cv::resize(grid, out, {size, size}, 0, 0, cv::INTER_CUBIC);
    return out;
}

cv::Vec3f randomColour(cv::RNG& rng, float lo, float hi) {
    return {rng.uniform(lo, hi), rng.uniform(lo, hi), rng.uniform(lo, hi)};
}

/// A texture: base colour modulated by smooth noise and (optionally) stripes.
cv::Mat texture(cv::RNG& rng, int size, cv::Vec3f base, cv::Vec3f accent, bool stripes) {
    cv::Mat blend = smoothNoise(rng, size, rng.uniform(3, 9)) * 0.6f;
    if (stripes) {
        const float angle = rng.uniform(0.f, static_cast<float>(CV_PI));
        const float period = rng.uniform(5.f, 11.f);
        const float c = std::cos(angle), s = std::sin(angle);
        for (int y = 0; y < size; ++y) {
            float* row = blend.ptr<float>(y);
            for (int x = 0; x < size; ++x)
                row[x] += 0.4f * (0.5f + 0.5f * std::sin(2.f * static_cast<float>(CV_PI) *
                                                         (x * c + y * s) / period));
        }
    } else {
        blend += smoothNoise(rng, size, size / 4) * 0.4f; // finer mottling
    }
    cv::Mat out(size, size, CV_32FC3);
    for (int y = 0; y < size; ++y) {
        const float* b = blend.ptr<float>(y);
        cv::Vec3f* o = out.ptr<cv::Vec3f>(y);
        for (int x = 0; x < size; ++x)
            o[x] = base * (1.f - b[x]) + accent * b[x];
    }
    return out;
}

/// A blob: a polygon whose radius wobbles around an ellipse.
std::vector<cv::Point> blob(cv::RNG& rng, int size, double minR, double maxR) {
    const cv::Point2d centre(rng.uniform(0.15, 0.85) * size, rng.uniform(0.15, 0.85) * size);
    const double rx = rng.uniform(minR, maxR) * size, ry = rng.uniform(minR, maxR) * size;
    const double rot = rng.uniform(0.0, CV_PI);
    const int lobes = rng.uniform(2, 6);
    const double wobble = rng.uniform(0.05, 0.25), phase = rng.uniform(0.0, 2 * CV_PI);
    std::vector<cv::Point> pts;
    for (int k = 0; k < 48; ++k) {
        const double t = 2 * CV_PI * k / 48;
        const double r = 1.0 + wobble * std::sin(lobes * t + phase);
        const double x = rx * r * std::cos(t), y = ry * r * std::sin(t);
        pts.emplace_back(cvRound(centre.x + x * std::cos(rot) - y * std::sin(rot)),
                         cvRound(centre.y + x * std::sin(rot) + y * std::cos(rot)));
    }
    return pts;
}

} // namespace

SyntheticSample makeSyntheticSample(const SampleDataOptions& options, int index) {
    const int size = options.size;
    cv::RNG rng(options.seed * 0x9E3779B97F4A7C15ull +
                static_cast<std::uint64_t>(index) * 0xBF58476D1CE4E5B9ull + 1);
    // Background: earthy, mottled; foreground: brighter, striped, warmer — like
    // cells or lesions on tissue, different enough to learn, close enough to need it.
    const cv::Vec3f bgBase = randomColour(rng, 40, 110), bgAccent = randomColour(rng, 80, 150);
    cv::Mat canvas = texture(rng, size, bgBase, bgAccent, false);
    cv::Mat mask = cv::Mat::zeros(size, size, CV_8UC1);

    // Decoys: background-textured blobs with a slightly different tone.
    const int decoys = rng.uniform(0, 3);
    for (int d = 0; d < decoys; ++d) {
        cv::Mat region = cv::Mat::zeros(size, size, CV_8UC1);
        cv::fillPoly(region, std::vector<std::vector<cv::Point>>{blob(rng, size, 0.08, 0.2)}, 255);
        cv::Mat decoy = texture(rng, size, bgBase * 1.25f, bgAccent * 0.8f, false);
        decoy.copyTo(canvas, region);
    }
    const bool empty = rng.uniform(0.0, 1.0) < options.emptyFraction;
    const int shapes = empty ? 0 : rng.uniform(1, 4);
    for (int s = 0; s < shapes; ++s) {
        cv::Mat region = cv::Mat::zeros(size, size, CV_8UC1);
        cv::fillPoly(region, std::vector<std::vector<cv::Point>>{blob(rng, size, 0.07, 0.22)}, 255);
        const cv::Vec3f fgBase(rng.uniform(150.f, 230.f), rng.uniform(60.f, 140.f),
                               rng.uniform(90.f, 170.f));
        const cv::Vec3f fgAccent = fgBase * rng.uniform(0.55f, 0.75f);
        cv::Mat fg = texture(rng, size, fgBase, fgAccent, true);
        // Soft edge: blend with a blurred copy of the region, as a lens would.
        cv::Mat alpha;
        region.convertTo(alpha, CV_32F, 1.0 / 255);
        cv::GaussianBlur(alpha, alpha, {5, 5}, 1.0);
        for (int y = 0; y < size; ++y) {
            const float* a = alpha.ptr<float>(y);
            const cv::Vec3f* f = fg.ptr<cv::Vec3f>(y);
            cv::Vec3f* c = canvas.ptr<cv::Vec3f>(y);
            for (int x = 0; x < size; ++x)
                c[x] = c[x] * (1.f - a[x]) + f[x] * a[x];
        }
        mask |= region;
    }
    // Sensor noise and a gentle illumination gradient over everything.
    cv::Mat noise(size, size, CV_32FC3);
    rng.fill(noise, cv::RNG::NORMAL, 0.0, 9.0);
    canvas += noise;
    const float gx = rng.uniform(-0.3f, 0.3f), gy = rng.uniform(-0.3f, 0.3f);
    for (int y = 0; y < size; ++y) {
        cv::Vec3f* c = canvas.ptr<cv::Vec3f>(y);
        for (int x = 0; x < size; ++x)
            c[x] *= 1.f + gx * (x / static_cast<float>(size) - 0.5f) +
                    gy * (y / static_cast<float>(size) - 0.5f);
    }
    SyntheticSample out;
    canvas.convertTo(out.image, CV_8UC3); // saturating
    out.mask = mask;
    return out;
}

std::string writeSampleData(const std::filesystem::path& dir, const SampleDataOptions& options) {
    if (options.count < 1 || options.size < 16 || options.size > 4096)
        return strCat("need count ≥ 1 and 16 ≤ size ≤ 4096 (got count ", options.count, ", size ",
                      options.size, ")");
    std::error_code ec;
    std::filesystem::create_directories(dir / "images", ec);
    std::filesystem::create_directories(dir / "masks", ec);
    if (ec)
        return strCat("cannot create '", dir.string(), "': ", ec.message());
    for (int i = 0; i < options.count; ++i) {
        SyntheticSample s = makeSyntheticSample(options, i);
        char name[32];
        std::snprintf(name, sizeof name, "sample_%04d.png", i);
        if (std::string err = writeImage(dir / "images" / name, s.image); !err.empty())
            return err;
        if (std::string err = writeImage(dir / "masks" / name, s.mask); !err.empty())
            return err;
    }
    return {};
}

} // namespace segforge::core
