#include "engine/tensor_stats.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace segforge::core {
namespace {

struct Range {
    std::int64_t begin = 0, end = 0;
};

Range sampleRange(const Tensor& t, std::int64_t sample) {
    if (sample < 0 || t.shape().rank() == 0)
        return {0, t.numel()};
    const std::int64_t batch = t.shape()[0];
    if (sample >= batch)
        throw std::out_of_range(
            strCat("sample ", sample, " is outside the batch of ", t.describe()));
    const std::int64_t per = batch == 0 ? 0 : t.numel() / batch;
    return {sample * per, (sample + 1) * per};
}

/// Calls f(double) for every element in [r.begin, r.end), whatever the dtype.
template <typename F> void forEachValue(const Tensor& t, Range r, F&& f) {
    switch (t.dtype()) {
    case DType::Float32: {
        const float* p = t.f32();
        for (std::int64_t i = r.begin; i < r.end; ++i)
            f(static_cast<double>(p[i]));
        return;
    }
    case DType::UInt8: {
        const std::uint8_t* p = t.u8();
        for (std::int64_t i = r.begin; i < r.end; ++i)
            f(static_cast<double>(p[i]));
        return;
    }
    case DType::UInt16: {
        const std::uint16_t* p = t.u16();
        for (std::int64_t i = r.begin; i < r.end; ++i)
            f(static_cast<double>(p[i]));
        return;
    }
    case DType::Int32: {
        const std::int32_t* p = t.i32();
        for (std::int64_t i = r.begin; i < r.end; ++i)
            f(static_cast<double>(p[i]));
        return;
    }
    case DType::Bool: {
        // One byte per element, 0 or 1.
        const std::byte* p = t.bytes();
        for (std::int64_t i = r.begin; i < r.end; ++i)
            f(p[i] != std::byte{0} ? 1.0 : 0.0);
        return;
    }
    }
}

} // namespace

TensorStats tensorStats(const Tensor& t, std::int64_t sample, int bins) {
    if (bins < 1)
        throw std::invalid_argument("tensorStats needs at least one histogram bin");
    const Range range = sampleRange(t, sample);
    TensorStats s;
    s.count = range.end - range.begin;
    s.histogram.assign(static_cast<std::size_t>(bins), 0);

    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    double sum = 0, sumSquares = 0;
    std::int64_t zeros = 0;
    forEachValue(t, range, [&](double v) {
        if (std::isnan(v)) {
            ++s.nanCount;
            return;
        }
        if (std::isinf(v)) {
            ++s.infCount;
            return;
        }
        ++s.finiteCount;
        zeros += v == 0.0;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        sum += v;
        sumSquares += v * v;
    });
    s.zeroFraction = s.count > 0 ? static_cast<double>(zeros) / static_cast<double>(s.count) : 0.0;
    if (s.finiteCount == 0)
        return s;

    const double n = static_cast<double>(s.finiteCount);
    s.min = lo;
    s.max = hi;
    s.mean = sum / n;
    s.l2norm = std::sqrt(sumSquares);
    // Second pass around the mean: sumSquares/n - mean² cancels badly for
    // activations with a large offset and a small spread.
    double centred = 0;
    forEachValue(t, range, [&](double v) {
        if (std::isfinite(v))
            centred += (v - s.mean) * (v - s.mean);
    });
    s.std = std::sqrt(centred / n);

    s.histMin = lo;
    s.histMax = hi;
    if (hi == lo) {
        s.histMin = lo - 0.5;
        s.histMax = hi + 0.5;
    }
    const double scale = bins / (s.histMax - s.histMin);
    forEachValue(t, range, [&](double v) {
        if (!std::isfinite(v))
            return;
        const auto bin = static_cast<int>((v - s.histMin) * scale);
        ++s.histogram[static_cast<std::size_t>(std::clamp(bin, 0, bins - 1))];
    });
    return s;
}

} // namespace segforge::core
