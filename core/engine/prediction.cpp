#include "engine/prediction.hpp"

#include "data/image_io.hpp"
#include "engine/node_attributes.hpp"
#include "ops/op_registry.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace segforge::core {

std::optional<PortRef> predictionPort(const Graph& graph) {
    const auto& registry = OpRegistry::builtin();
    for (OpRole role : {OpRole::Loss, OpRole::Metric})
        for (const auto& [id, node] : graph.nodes()) {
            const OpSchema* s = registry.find(node.op);
            if (s && s->role == role)
                if (auto producer = graph.producerOf({id, "prediction"}))
                    return producer;
        }
    return std::nullopt;
}

std::string conformImage(cv::Mat& image, const TensorType& type, bool resize) {
    const auto h = static_cast<int>(type.shape[1]), w = static_cast<int>(type.shape[2]);
    const auto c = static_cast<int>(type.shape[3]);
    if (image.channels() != c) {
        if (c == 3 && image.channels() == 1)
            cv::cvtColor(image, image, cv::COLOR_GRAY2RGB);
        else if (c == 3 && image.channels() == 4)
            cv::cvtColor(image, image, cv::COLOR_RGBA2RGB);
        else if (c == 1 && (image.channels() == 3 || image.channels() == 4))
            cv::cvtColor(image, image,
                         image.channels() == 3 ? cv::COLOR_RGB2GRAY : cv::COLOR_RGBA2GRAY);
        else
            return "has " + std::to_string(image.channels()) + " channels, the network reads " +
                   std::to_string(c);
    }
    if (type.dtype == DType::UInt8 && image.depth() != CV_8U)
        return "is not 8-bit, the network reads uint8 images";
    if (type.dtype == DType::UInt16 && image.depth() != CV_16U)
        return "is not 16-bit, the network reads uint16 images";
    if (type.dtype == DType::Float32 && image.depth() != CV_32F)
        image.convertTo(image, CV_32F);
    if (image.rows != h || image.cols != w) {
        if (!resize)
            return "is " + std::to_string(image.rows) + "×" + std::to_string(image.cols) +
                   ", the network reads " + std::to_string(h) + "×" + std::to_string(w) +
                   " (set the Dataset's size_policy to resize)";
        cv::resize(image, image, {w, h}, 0, 0, cv::INTER_AREA);
    }
    return {};
}

Tensor tensorFromImage(const cv::Mat& image, DType dtype) {
    Tensor t(Shape{1, image.rows, image.cols, image.channels()}, dtype);
    const std::size_t row = static_cast<std::size_t>(image.cols) *
                            static_cast<std::size_t>(image.channels()) * image.elemSize1();
    if (row * static_cast<std::size_t>(image.rows) != t.byteSize())
        throw std::invalid_argument("tensorFromImage: the image's depth does not match " +
                                    std::string(dtypeName(dtype)));
    for (int y = 0; y < image.rows; ++y)
        std::memcpy(t.bytes() + static_cast<std::size_t>(y) * row, image.ptr(y), row);
    return t;
}

cv::Mat displayRgb(const cv::Mat& image) {
    cv::Mat out = image;
    if (out.depth() != CV_8U)
        out.convertTo(out, CV_8U, out.depth() == CV_16U ? 1.0 / 257 : 255.0);
    if (out.channels() == 1)
        cv::cvtColor(out, out, cv::COLOR_GRAY2RGB);
    else if (out.channels() == 4)
        cv::cvtColor(out, out, cv::COLOR_RGBA2RGB);
    return out;
}

namespace {

void checkSample(const Tensor& t, std::int64_t sample, const char* what) {
    if (t.shape().rank() != 4 || sample < 0 || sample >= t.batch())
        throw std::out_of_range(std::string(what) + ": no sample " + std::to_string(sample) +
                                " in " + t.describe());
}

} // namespace

cv::Mat sampleImage(const Tensor& images, std::int64_t sample) {
    checkSample(images, sample, "sampleImage");
    const int h = static_cast<int>(images.height()), w = static_cast<int>(images.width());
    const int c = static_cast<int>(images.channels());
    const std::int64_t plane = images.height() * images.width() * images.channels();
    cv::Mat out;
    if (images.dtype() == DType::UInt8) {
        out = cv::Mat(h, w, CV_8UC(c), const_cast<std::uint8_t*>(images.u8() + sample * plane))
                  .clone();
    } else if (images.dtype() == DType::Float32) {
        cv::Mat f(h, w, CV_32FC(c), const_cast<float*>(images.f32() + sample * plane));
        double lo = 0, hi = 0;
        cv::minMaxLoc(f.reshape(1), &lo, &hi);
        if (lo >= 0 && hi <= 1.0)
            f.convertTo(out, CV_8U, 255.0);
        else
            f.convertTo(out, CV_8U, hi > lo ? 255.0 / (hi - lo) : 1.0,
                        hi > lo ? -lo * 255.0 / (hi - lo) : 0.0);
    } else if (images.dtype() == DType::UInt16) {
        cv::Mat i(h, w, CV_16UC(c), const_cast<std::uint16_t*>(images.u16() + sample * plane));
        i.convertTo(out, CV_8U, 1.0 / 257);
    } else {
        cv::Mat i(h, w, CV_32SC(c), const_cast<std::int32_t*>(images.i32() + sample * plane));
        i.convertTo(out, CV_8U);
    }
    if (c == 1)
        cv::cvtColor(out, out, cv::COLOR_GRAY2RGB);
    else if (c == 4)
        cv::cvtColor(out, out, cv::COLOR_RGBA2RGB);
    else if (c != 3) {
        cv::extractChannel(out, out, 0);
        cv::cvtColor(out, out, cv::COLOR_GRAY2RGB);
    }
    return out;
}

cv::Mat sampleMask(const Tensor& masks, std::int64_t sample) {
    checkSample(masks, sample, "sampleMask");
    const int h = static_cast<int>(masks.height()), w = static_cast<int>(masks.width());
    const std::int64_t c = masks.channels();
    const std::int64_t plane = masks.height() * masks.width() * c;
    cv::Mat out(h, w, CV_8UC1);
    for (int y = 0; y < h; ++y) {
        std::uint8_t* o = out.ptr<std::uint8_t>(y);
        for (int x = 0; x < w; ++x) {
            const std::int64_t at = sample * plane + (static_cast<std::int64_t>(y) * w + x) * c;
            auto value = [&](std::int64_t k) { return masks.valueAt(at + k); };
            if (c == 1) {
                const double v = value(0);
                o[x] = static_cast<std::uint8_t>(v >= 255 ? 1 : std::clamp(v + 0.5, 0.0, 254.0));
                continue;
            }
            std::int64_t best = 0;
            for (std::int64_t k = 1; k < c; ++k)
                best = value(k) > value(best) ? k : best;
            o[x] = static_cast<std::uint8_t>(std::min<std::int64_t>(best, 255));
        }
    }
    return out;
}

cv::Mat sampleScores(const Tensor& scores, std::int64_t sample) {
    checkSample(scores, sample, "sampleScores");
    const int h = static_cast<int>(scores.height()), w = static_cast<int>(scores.width());
    const int c = static_cast<int>(scores.channels());
    const std::int64_t plane = scores.height() * scores.width() * scores.channels();
    return cv::Mat(h, w, CV_32FC(c), const_cast<float*>(scores.f32() + sample * plane)).clone();
}

MaskScores scorePredictedMask(const cv::Mat& predicted, const cv::Mat& truth,
                              std::int64_t predictionChannels) {
    const ClassPolicy policy = ClassPolicy::forPrediction(predictionChannels);
    if (predicted.empty() || truth.empty() || predicted.size() != truth.size() ||
        predicted.type() != CV_8UC1 || truth.channels() != 1) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        return {nan, nan, nan, policy};
    }
    cv::Mat labels;
    truth.convertTo(labels, CV_32S);
    const bool binary = predictionChannels <= 1;
    ClassCounts counts(policy.classes);
    for (int y = 0; y < predicted.rows; ++y) {
        const std::uint8_t* p = predicted.ptr<std::uint8_t>(y);
        const std::int32_t* t = labels.ptr<std::int32_t>(y);
        for (int x = 0; x < predicted.cols; ++x)
            counts.add(p[x], binary ? (t[x] != 0 ? 1 : 0) : t[x]);
    }
    return scoreCounts(counts, policy);
}

std::vector<SamplePrediction> predictValidation(Executor& executor, BatchSource& source,
                                                const PortRef& prediction, std::size_t maxSamples) {
    std::vector<SamplePrediction> out;
    for (std::size_t b = 0; b < source.validationBatchCount() && out.size() < maxSamples; ++b) {
        const Batch batch = source.validationBatch(b);
        if (executor.evaluate(batch) != RunStatus::Finished)
            break;
        const Tensor* scores = executor.output(prediction.node, prediction.port);
        if (!scores || scores->dtype() != DType::Float32)
            break;
        for (std::int64_t s = 0; s < batch.image.batch() && out.size() < maxSamples; ++s) {
            SamplePrediction p;
            p.name = static_cast<std::size_t>(s) < batch.names.size()
                         ? batch.names[static_cast<std::size_t>(s)]
                         : "sample " + std::to_string(out.size());
            p.image = sampleImage(batch.image, s);
            p.truth = sampleMask(batch.mask, s);
            p.scores = sampleScores(*scores, s);
            out.push_back(std::move(p));
        }
    }
    return out;
}

FilePrediction predictFile(Executor& executor, const PortRef& prediction,
                           const TensorType& imageType, const TensorType& maskType, bool resize,
                           const std::filesystem::path& file) {
    FilePrediction result;
    ImageReadResult read = readImage(file);
    if (!read.ok()) {
        result.error = read.error;
        return result;
    }
    cv::Mat input = read.image;
    if (std::string err = conformImage(input, imageType, resize); !err.empty()) {
        result.error = file.filename().string() + " " + err;
        return result;
    }
    Batch batch;
    batch.image = tensorFromImage(input, imageType.dtype);
    batch.mask = Tensor(concreteShape(maskType.shape, 1), maskType.dtype);
    batch.names = {file.stem().string()};
    if (executor.evaluate(batch) != RunStatus::Finished) {
        result.error = file.filename().string() + ": " +
                       (executor.nonFinite() ? executor.nonFinite()->message()
                                             : std::string("did not finish"));
        return result;
    }
    const Tensor* scores = executor.output(prediction.node, prediction.port);
    if (!scores || scores->dtype() != DType::Float32) {
        result.error = "the prediction output is not a float32 tensor";
        return result;
    }
    result.scores = sampleScores(*scores, 0);
    result.rgb = displayRgb(read.image);
    return result;
}

} // namespace segforge::core
