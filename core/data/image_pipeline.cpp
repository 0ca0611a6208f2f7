#include "data/image_pipeline.hpp"

#include "data/image_io.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace segforge::core {
namespace {

/// SplitMix64: a tiny, well-mixed generator whose stream is defined here, not
/// by the standard library, so seeds mean the same on every platform.
class SplitMix {
public:
    explicit SplitMix(std::uint64_t seed)
        : m_state(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
    double uniform(double lo, double hi) {
        return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
    }

private:
    std::uint64_t m_state;
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
    return SplitMix(a * 0x100000001B3ull ^ b).next();
}

void shuffle(std::vector<std::size_t>& v, std::uint64_t seed) {
    SplitMix rng(seed);
    for (std::size_t i = v.size(); i > 1; --i)
        std::swap(v[i - 1], v[rng.below(i)]);
}

/// Centre crop, then zero-pad, to exactly h×w.
cv::Mat centreFit(const cv::Mat& m, int h, int w) {
    const int ch = std::min(h, m.rows), cw = std::min(w, m.cols);
    cv::Mat cropped = m(cv::Rect((m.cols - cw) / 2, (m.rows - ch) / 2, cw, ch));
    cv::Mat out;
    const int top = (h - ch) / 2, left = (w - cw) / 2;
    cv::copyMakeBorder(cropped, out, top, h - ch - top, left, w - cw - left, cv::BORDER_CONSTANT,
                       cv::Scalar::all(0));
    return out;
}

DType tensorDType(int depth) {
    switch (depth) {
    case CV_8U:
        return DType::UInt8;
    case CV_16U:
        return DType::UInt16;
    case CV_32F:
        return DType::Float32;
    default:
        return DType::Int32;
    }
}

/// Copies one HWC matrix into slot `b` of an NHWC tensor of the matching dtype
/// (see tensorDType): 8- and 16-bit samples keep their type, other integer
/// depths are widened to int32.
void copyInto(Tensor& t, std::size_t b, const cv::Mat& m) {
    cv::Mat src = m;
    if (m.depth() != CV_8U && m.depth() != CV_16U && m.depth() != CV_32F)
        m.convertTo(src, CV_32S);
    const std::size_t row = static_cast<std::size_t>(src.cols) * src.channels() * src.elemSize1();
    std::byte* dst = t.bytes() + b * row * static_cast<std::size_t>(src.rows);
    for (int y = 0; y < src.rows; ++y)
        std::memcpy(dst + y * row, src.ptr(y), row);
}

void augment(cv::Mat& image, cv::Mat& mask, const AugmentOptions& a, SplitMix& rng) {
    if (a.cropHeight > 0 && a.cropWidth > 0 && a.cropHeight <= image.rows &&
        a.cropWidth <= image.cols) {
        const int y =
            static_cast<int>(rng.below(static_cast<std::size_t>(image.rows - a.cropHeight + 1)));
        const int x =
            static_cast<int>(rng.below(static_cast<std::size_t>(image.cols - a.cropWidth + 1)));
        const cv::Rect r(x, y, a.cropWidth, a.cropHeight);
        image = image(r).clone();
        mask = mask(r).clone();
    }
    if (a.flips) {
        const bool h = rng.next() & 1, v = rng.next() & 1;
        if (h || v) {
            const int code = h && v ? -1 : (h ? 1 : 0);
            cv::flip(image, image, code);
            cv::flip(mask, mask, code);
        }
    }
    if (a.rotate90 && image.rows == image.cols) {
        static constexpr cv::RotateFlags kRot[] = {cv::ROTATE_90_CLOCKWISE, cv::ROTATE_180,
                                                   cv::ROTATE_90_COUNTERCLOCKWISE};
        if (std::size_t k = rng.below(4); k > 0) {
            cv::rotate(image, image, kRot[k - 1]);
            cv::rotate(mask, mask, kRot[k - 1]);
        }
    }
    if (a.brightness > 0 || a.contrast > 0) {
        const double gain = a.contrast > 0 ? rng.uniform(1 - a.contrast, 1 + a.contrast) : 1.0;
        const double full =
            image.depth() == CV_8U ? 255.0 : (image.depth() == CV_16U ? 65535.0 : 1.0);
        const double shift =
            a.brightness > 0 ? rng.uniform(-a.brightness, a.brightness) * full : 0.0;
        const cv::Scalar mean = cv::mean(image);
        const double centre = (mean[0] + mean[1] + mean[2]) / std::min(3, image.channels());
        // out = gain·(in − centre) + centre + shift, saturated to the type's range.
        image.convertTo(image, -1, gain, (1 - gain) * centre + shift);
    }
}

} // namespace

ImageFolderSource::ImageFolderSource(PipelineOptions options)
    : m_options(std::move(options)) {
    if (m_options.batchSize == 0)
        throw DataError("batch size must be at least 1");
    m_index = indexDataset(m_options.spec);
    if (!m_index.error.empty())
        throw DataError(m_index.error);
    if (m_index.pairs.empty())
        throw DataError(strCat("no image/mask pairs in '", m_options.spec.imagesDir.string(), "'"));
    if (m_options.maskMode == MaskMode::Palette && m_options.palette.empty()) {
        ProbeOptions all;
        all.fullScan = true;
        all.maxImagePixels = m_options.maxImagePixels;
        DataProbe probe = probeDataset(m_options.spec, all);
        if (probe.tooManyColours)
            throw DataError("palette masks with more than 256 colours");
        m_options.palette = probe.maskColours;
    }
    m_refHeight = m_options.height;
    m_refWidth = m_options.width;
    if (m_options.sizePolicy != SizePolicy::Exact && (m_refHeight <= 0 || m_refWidth <= 0))
        throw DataError("resize and crop_or_pad need a target height and width");

    // Skipping: a pair whose header is unreadable or over the pixel limit is
    // left out before the split, as the probe leaves it out of check's
    // findings — otherwise it could be a validation split's only sample.
    // Stopping: it stays, and training stops when it comes up.
    std::vector<std::size_t> all;
    for (std::size_t i = 0; i < m_index.pairs.size(); ++i) {
        std::string problem =
            m_options.stopOnError ? std::string() : headerProblem(m_index.pairs[i]);
        if (problem.empty())
            all.push_back(i);
        else if (m_bad.insert(i).second)
            m_problems.push_back({m_index.pairs[i].stem, std::move(problem)});
    }
    if (all.empty())
        throw DataError(
            strCat("none of the ", m_index.pairs.size(),
                   " image/mask pairs can be read; the first: ", m_problems.front().reason));
    shuffle(all, mix(m_options.seed, 0x5EED5EEDull));
    std::size_t nVal = static_cast<std::size_t>(
        std::lround(m_options.validationFraction * static_cast<double>(all.size())));
    if (m_options.validationFraction > 0 && nVal == 0 && all.size() >= 2)
        nVal = 1;
    nVal = std::min(nVal, all.size() - 1); // keep at least one training sample
    m_validation.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(nVal));
    std::sort(m_validation.begin(), m_validation.end());
    m_train.assign(all.begin() + static_cast<std::ptrdiff_t>(nVal), all.end());
    std::sort(m_train.begin(), m_train.end());
    if (m_options.sizePolicy == SizePolicy::Exact && m_refHeight <= 0) {
        // The first readable pair fixes the size every other sample must have.
        const ImageLimits limits{m_options.maxImagePixels};
        for (std::size_t i = 0; i < m_index.pairs.size() && m_refHeight <= 0; ++i) {
            std::string err;
            auto h = readImageHeader(m_index.pairs[i].image, &err);
            if (h && pixelLimitError(*h, limits).empty()) {
                m_refHeight = static_cast<int>(h->height);
                m_refWidth = static_cast<int>(h->width);
            }
        }
    }
    beginEpoch(0);
}

ImageFolderSource::~ImageFolderSource() {
    waitForPrefetch();
}

std::string ImageFolderSource::headerProblem(const SamplePair& pair) const {
    const ImageLimits limits{m_options.maxImagePixels};
    for (const auto& [what, path] :
         {std::pair{"image ", &pair.image}, std::pair{"mask ", &pair.mask}}) {
        std::string why;
        const auto header = readImageHeader(*path, &why);
        if (header)
            why = pixelLimitError(*header, limits);
        if (!why.empty())
            return strCat(what, path->filename().string(), ": ", why);
    }
    return {};
}

void ImageFolderSource::waitForPrefetch() {
    if (m_next.valid()) {
        try {
            m_next.get();
        } catch (...) { // the error resurfaces when that batch is asked for again
        }
    }
    m_nextEpoch = -1;
}

std::size_t ImageFolderSource::trainBatchCount() const {
    const std::size_t n = m_train.size(), b = m_options.batchSize;
    if (m_options.dropLastPartial && n >= b)
        return n / b;
    return (n + b - 1) / b;
}

std::size_t ImageFolderSource::validationBatchCount() const {
    return (m_validation.size() + m_options.batchSize - 1) / m_options.batchSize;
}

void ImageFolderSource::beginEpoch(int epoch) {
    waitForPrefetch();
    m_epoch = epoch;
    std::sort(m_train.begin(), m_train.end());
    shuffle(m_train, mix(m_options.seed, 0xE90C0000ull + static_cast<std::uint64_t>(epoch)));
}

Batch ImageFolderSource::trainBatch(std::size_t index) {
    Batch batch;
    if (m_next.valid() && m_nextIndex == index && m_nextEpoch == m_epoch) {
        batch = m_next.get();
    } else {
        waitForPrefetch();
        batch = buildBatch(m_train, index, true, m_epoch);
    }
    if (m_options.prefetch && index + 1 < trainBatchCount()) {
        m_nextIndex = index + 1;
        m_nextEpoch = m_epoch;
        m_next = std::async(std::launch::async, [this, next = index + 1, epoch = m_epoch] {
            return buildBatch(m_train, next, true, epoch);
        });
    }
    return batch;
}

Batch ImageFolderSource::validationBatch(std::size_t index) {
    return buildBatch(m_validation, index, false, 0);
}

std::vector<std::string> ImageFolderSource::validationStems() const {
    std::vector<std::string> out;
    for (std::size_t i : m_validation)
        out.push_back(m_index.pairs[i].stem);
    return out;
}

std::vector<UnreadableFile> ImageFolderSource::problems() const {
    std::lock_guard lock(m_mutex);
    return m_problems;
}

ImageFolderSource::Sample ImageFolderSource::decodeSample(std::size_t pair,
                                                          std::string& error) const {
    const SamplePair& p = m_index.pairs[pair];
    const ImageLimits limits{m_options.maxImagePixels};
    const std::string imageName = p.image.filename().string();
    const std::string maskName = p.mask.filename().string();
    Sample s;
    ImageReadResult image = readImage(p.image, limits);
    if (!image.ok()) {
        error = strCat("image ", imageName, ": ", image.error);
        return s;
    }
    ImageReadResult stored = readMaskImage(p.mask, limits);
    if (!stored.ok()) {
        error = strCat("mask ", maskName, ": ", stored.error);
        return s;
    }
    try {
        MaskDecodeResult mask =
            decodeMask(stored.image, m_options.maskMode, m_options.palette, stored.palette);
        if (!mask.ok()) {
            error = strCat("mask ", maskName, ": ", mask.error);
            return s;
        }
        s.image = image.image;
        s.mask = mask.mask;
        switch (m_options.sizePolicy) {
        case SizePolicy::Exact:
            if (s.image.size() != s.mask.size() || s.image.rows != m_refHeight ||
                s.image.cols != m_refWidth) {
                error =
                    strCat("image ", imageName, ": image ", s.image.rows, "×", s.image.cols,
                           ", mask ", s.mask.rows, "×", s.mask.cols, ", but every sample must be ",
                           m_refHeight, "×", m_refWidth, " (size_policy 'exact')");
                return {};
            }
            break;
        case SizePolicy::Resize:
            if (s.image.rows != m_refHeight || s.image.cols != m_refWidth)
                cv::resize(s.image, s.image, {m_refWidth, m_refHeight}, 0, 0, cv::INTER_AREA);
            if (s.mask.rows != m_refHeight || s.mask.cols != m_refWidth)
                cv::resize(s.mask, s.mask, {m_refWidth, m_refHeight}, 0, 0, cv::INTER_NEAREST);
            break;
        case SizePolicy::CropOrPad:
            s.image = centreFit(s.image, m_refHeight, m_refWidth);
            s.mask = centreFit(s.mask, m_refHeight, m_refWidth);
            break;
        }
    } catch (const std::exception& e) { // cv::Exception or std::bad_alloc from a conversion
        error = strCat("image ", imageName, ": cannot bring it to ", m_refHeight, "×", m_refWidth,
                       ": ", e.what());
        return {};
    }
    return s;
}

ImageFolderSource::SamplePtr ImageFolderSource::loadSample(std::size_t pair) {
    {
        std::lock_guard lock(m_mutex);
        if (m_bad.count(pair))
            return nullptr;
        if (auto it = m_cache.find(pair); it != m_cache.end())
            return it->second;
    }
    std::string error;
    Sample s = decodeSample(pair, error); // outside the lock: decoding is the slow part
    std::lock_guard lock(m_mutex);
    if (!error.empty()) {
        if (m_bad.insert(pair).second)
            m_problems.push_back({m_index.pairs[pair].stem, error});
        if (m_options.stopOnError)
            throw DataError(error);
        return nullptr;
    }
    auto ptr = std::make_shared<const Sample>(std::move(s));
    const std::size_t bytes =
        ptr->image.total() * ptr->image.elemSize() + ptr->mask.total() * ptr->mask.elemSize();
    if (m_cacheBytes + bytes <= m_options.cacheBytes) {
        m_cache.emplace(pair, ptr);
        m_cacheBytes += bytes;
    }
    return ptr;
}

ImageFolderSource::SamplePtr
ImageFolderSource::loadOrSubstitute(const std::vector<std::size_t>& order, std::size_t position,
                                    std::size_t& used) {
    for (std::size_t k = 0; k < order.size(); ++k) {
        used = order[(position + k) % order.size()];
        if (SamplePtr s = loadSample(used))
            return s;
    }
    std::lock_guard lock(m_mutex);
    throw DataError(
        strCat("none of the ", order.size(), " samples of this split can be read",
               m_problems.empty() ? std::string() : "; the first: " + m_problems.front().reason));
}

Batch ImageFolderSource::buildBatch(const std::vector<std::size_t>& order, std::size_t batchIndex,
                                    bool train, int epoch) {
    const std::size_t first = batchIndex * m_options.batchSize;
    if (first >= order.size())
        throw DataError(strCat("batch ", batchIndex, " is past the end of the data"));
    const std::size_t count = std::min(m_options.batchSize, order.size() - first);
    Batch batch;
    std::vector<cv::Mat> images(count), masks(count);
    for (std::size_t b = 0; b < count; ++b) {
        std::size_t pair = order[first + b];
        SamplePtr s = loadOrSubstitute(order, first + b, pair);
        images[b] = s->image;
        masks[b] = s->mask;
        if (train) {
            SplitMix rng(mix(mix(m_options.seed, static_cast<std::uint64_t>(epoch)), pair));
            augment(images[b], masks[b], m_options.augment, rng);
        }
        batch.names.push_back(m_index.pairs[pair].stem);
    }
    // One batch, one channel count: grey samples among RGB ones are expanded.
    const int channels = images[0].channels();
    for (cv::Mat& m : images) {
        if (m.channels() == channels)
            continue;
        cv::Mat fixed;
        if (m.channels() == 1 && channels >= 3)
            cv::cvtColor(m, fixed, channels == 3 ? cv::COLOR_GRAY2RGB : cv::COLOR_GRAY2RGBA);
        else if (m.channels() == 4 && channels == 3)
            cv::cvtColor(m, fixed, cv::COLOR_RGBA2RGB);
        else if (m.channels() == 3 && channels == 4)
            cv::cvtColor(m, fixed, cv::COLOR_RGB2RGBA);
        else
            throw DataError(strCat("sample '",
                                   batch.names[static_cast<std::size_t>(&m - images.data())],
                                   "': cannot batch a ", m.channels(), "-channel image with ",
                                   channels, "-channel ones"));
        m = fixed;
    }
    const auto n = static_cast<std::int64_t>(count);
    batch.image =
        Tensor(Shape{n, images[0].rows, images[0].cols, channels}, tensorDType(images[0].depth()));
    batch.mask = Tensor(Shape{n, masks[0].rows, masks[0].cols, masks[0].channels()},
                        tensorDType(masks[0].depth()));
    for (std::size_t b = 0; b < count; ++b) {
        if (images[b].depth() != images[0].depth() || masks[b].depth() != masks[0].depth() ||
            masks[b].channels() != masks[0].channels())
            throw DataError(strCat("sample '", batch.names[b],
                                   "' differs in bit depth or mask channels from '", batch.names[0],
                                   "'"));
        copyInto(batch.image, b, images[b]);
        copyInto(batch.mask, b, masks[b]);
    }
    return batch;
}

} // namespace segforge::core
