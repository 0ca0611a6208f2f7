#pragma once

// A small synthetic segmentation task for the trainer tests: 8×8 two-channel
// float images whose mask is "channel 0 > 0", served in a seeded order.

#include "data/batch_source.hpp"
#include "engine/executor.hpp"
#include "graph_builder.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace segforge::core::testing {

class SyntheticSource final : public BatchSource {
public:
    SyntheticSource(std::size_t samples, std::size_t batch, std::size_t validation,
                    std::uint64_t seed, std::size_t emptyMaskSample = SIZE_MAX)
        : m_batch(batch)
        , m_validation(validation)
        , m_seed(seed) {
        std::mt19937 rng(static_cast<std::uint32_t>(seed));
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        for (std::size_t s = 0; s < samples; ++s) {
            std::vector<float> image(8 * 8 * 2), mask(8 * 8);
            for (auto& v : image)
                v = u(rng);
            for (std::size_t p = 0; p < mask.size(); ++p)
                mask[p] = s == emptyMaskSample ? 0.0f : (image[2 * p] > 0 ? 1.0f : 0.0f);
            m_images.push_back(std::move(image));
            m_masks.push_back(std::move(mask));
        }
        m_order.resize(samples - validation);
        std::iota(m_order.begin(), m_order.end(), validation);
    }

    std::size_t trainBatchCount() const override { return m_order.size() / m_batch; }
    std::size_t validationBatchCount() const override {
        return (m_validation + m_batch - 1) / m_batch;
    }
    void beginEpoch(int epoch) override {
        std::iota(m_order.begin(), m_order.end(), m_validation);
        std::shuffle(m_order.begin(), m_order.end(),
                     std::mt19937_64(m_seed * 31 + static_cast<std::uint64_t>(epoch)));
        ++beganEpochs;
    }
    Batch trainBatch(std::size_t index) override {
        return make(std::vector<std::size_t>(
            m_order.begin() + static_cast<std::ptrdiff_t>(index * m_batch),
            m_order.begin() + static_cast<std::ptrdiff_t>((index + 1) * m_batch)));
    }
    Batch validationBatch(std::size_t index) override {
        std::vector<std::size_t> ids;
        for (std::size_t i = index * m_batch; i < std::min(m_validation, (index + 1) * m_batch);
             ++i)
            ids.push_back(i);
        return make(ids);
    }

    int beganEpochs = 0;

private:
    Batch make(const std::vector<std::size_t>& ids) const {
        const auto n = static_cast<std::int64_t>(ids.size());
        Batch b{Tensor(Shape{n, 8, 8, 2}, DType::Float32),
                Tensor(Shape{n, 8, 8, 1}, DType::Float32),
                {}};
        for (std::size_t k = 0; k < ids.size(); ++k) {
            std::copy(m_images[ids[k]].begin(), m_images[ids[k]].end(), b.image.f32() + k * 128);
            std::copy(m_masks[ids[k]].begin(), m_masks[ids[k]].end(), b.mask.f32() + k * 64);
            b.names.push_back("s" + std::to_string(ids[k]));
        }
        return b;
    }

    std::size_t m_batch, m_validation;
    std::uint64_t m_seed;
    std::vector<std::vector<float>> m_images, m_masks;
    std::vector<std::size_t> m_order;
};

/// Dataset(8×8×2 f32, mask 8×8×1 f32) → Conv2D(4, 3×3, relu) → Dropout(0.1) → Conv2D(1, 1×1,
/// sigmoid) → `lossOp`; Dice and IoU metrics. Dropout makes the per-step randomness matter.
inline Graph trainerGraph(const std::string& lossOp = "BCEDice", AttrMap lossAttrs = {},
                          const std::string& initializer = "he_normal") {
    GraphBuilder b;
    const NodeId data = b.add("Dataset", "data",
                              {{"height", std::int64_t{8}},
                               {"width", std::int64_t{8}},
                               {"channels", std::int64_t{2}},
                               {"image_dtype", std::string("float32")},
                               {"mask_dtype", std::string("float32")},
                               {"mask_max", std::int64_t{1}}});
    const NodeId conv = b.then("Conv2D", "conv", {data, "image"},
                               {{"filters", std::int64_t{4}},
                                {"padding", std::string("same")},
                                {"activation", std::string("relu")},
                                {"kernel_initializer", initializer}});
    const NodeId drop = b.then("Dropout", "drop", out(conv), {{"rate", 0.1}});
    const NodeId head =
        b.then("Conv2D", "head", out(drop),
               {{"filters", std::int64_t{1}},
                {"kernel_size", std::int64_t{1}},
                {"activation", std::string(initializer == "zeros" ? "relu" : "sigmoid")},
                {"kernel_initializer", initializer}});
    const NodeId loss = b.add(lossOp, "loss", std::move(lossAttrs));
    b.wire(out(head), {loss, "prediction"});
    b.wire({data, "mask"}, {loss, "target"});
    for (const char* metric : {"DiceCoefficient", "IoU"}) {
        const NodeId m = b.add(metric, metric == std::string("IoU") ? "iou" : "dice");
        b.wire(out(head), {m, "prediction"});
        b.wire({data, "mask"}, {m, "target"});
    }
    return b.graph;
}

inline std::unique_ptr<Executor> compileTrainerGraph(const Graph& g) {
    std::string error;
    auto ex = Executor::compile(g, error);
    EXPECT_TRUE(ex) << error;
    return ex;
}

} // namespace segforge::core::testing
