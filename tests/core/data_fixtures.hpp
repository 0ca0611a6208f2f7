#pragma once

// Small datasets written on the fly under the system temp directory.

#include "data/image_io.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <unistd.h>

namespace segforge::core::testing {

/// A fresh directory removed again at the end of the test.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        m_path = std::filesystem::temp_directory_path() /
                 ("segforge_data_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& rel) const { return m_path / rel; }
    std::filesystem::path dir(const std::string& rel) const {
        std::filesystem::create_directories(m_path / rel);
        return m_path / rel;
    }

private:
    std::filesystem::path m_path;
};

/// An RGB image whose pixel (y, x) is (x, y, seed) mod 256, so tests can tell
/// where every pixel went.
inline cv::Mat patternImage(int h, int w, int seed = 0) {
    cv::Mat m(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x)
            m.at<cv::Vec3b>(y, x) =
                cv::Vec3b(static_cast<uchar>(x), static_cast<uchar>(y), static_cast<uchar>(seed));
    }
    return m;
}

/// A 1-channel mask: left half `lo`, right half `hi`.
inline cv::Mat halfMask(int h, int w, int lo, int hi, int type = CV_8UC1) {
    cv::Mat m(h, w, type, cv::Scalar(lo));
    m(cv::Rect(w / 2, 0, w - w / 2, h)).setTo(cv::Scalar(hi));
    return m;
}

inline void writeOrFail(const std::filesystem::path& p, const cv::Mat& rgb) {
    std::string err = writeImage(p, rgb);
    ASSERT_TRUE(err.empty()) << err;
}

inline void writeBytes(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

/// Writes n pairs images/NAME.png + masks/NAME.png with 0/`fg` masks.
inline void writeBinarySet(const TempDir& t, int n, int h, int w, int fg = 255) {
    auto images = t.dir("images");
    auto masks = t.dir("masks");
    for (int i = 0; i < n; ++i) {
        const std::string name = "s" + std::to_string(100 + i) + ".png";
        writeOrFail(images / name, patternImage(h, w, i));
        writeOrFail(masks / name, halfMask(h, w, 0, fg));
    }
}

/// The first bytes of a valid file, cut short.
inline void truncateFile(const std::filesystem::path& p, std::size_t keep) {
    std::filesystem::resize_file(p, keep);
}

} // namespace segforge::core::testing
