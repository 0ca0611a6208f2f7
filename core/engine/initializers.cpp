#include "engine/initializers.hpp"

#include <cmath>
#include <random>
#include <stdexcept>

namespace segforge::core {

namespace {

struct Fans {
    double in = 1, out = 1;
};

Fans fans(const std::vector<std::int64_t>& shape) {
    if (shape.empty())
        return {};
    if (shape.size() == 1)
        return {static_cast<double>(shape[0]), static_cast<double>(shape[0])};
    double receptive = 1;
    for (std::size_t i = 0; i + 2 < shape.size(); ++i)
        receptive *= static_cast<double>(shape[i]);
    return {receptive * static_cast<double>(shape[shape.size() - 2]),
            receptive * static_cast<double>(shape.back())};
}

} // namespace

void initializeParameter(Tensor& value, const ParamSpec& spec, std::uint64_t seed) {
    float* p = value.f32();
    const std::int64_t n = value.numel();
    if (spec.initializer == "zeros" || spec.initializer == "ones") {
        value.fill(spec.initializer == "ones" ? 1.0f : 0.0f);
        return;
    }
    // mt19937_64 and the hand-written transforms below are fully specified,
    // unlike std::normal_distribution, so weights are the same on every platform.
    std::mt19937_64 rng(seed);
    auto uniform01 = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
    const Fans f = fans(spec.shape);
    if (spec.initializer == "glorot_uniform") {
        const double limit = std::sqrt(6.0 / (f.in + f.out));
        for (std::int64_t i = 0; i < n; ++i)
            p[i] = static_cast<float>((2 * uniform01() - 1) * limit);
        return;
    }
    if (spec.initializer == "he_normal") {
        // Keras: truncated at two standard deviations, stddev corrected for the truncation.
        const double stddev = std::sqrt(2.0 / f.in) / 0.87962566103423978;
        for (std::int64_t i = 0; i < n; ++i) {
            double z = 0;
            do { // Box–Muller, redrawn outside ±2
                const double u1 = 1.0 - uniform01();
                const double u2 = uniform01();
                z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
            } while (std::fabs(z) > 2.0);
            p[i] = static_cast<float>(z * stddev);
        }
        return;
    }
    throw std::invalid_argument("unknown initializer '" + spec.initializer + "' for parameter '" +
                                spec.name + "'");
}

} // namespace segforge::core
