// Feeding speed: 128×128 RGB images with 0/1 masks, decoded once into the
// cache, then batched (with and without augmentation). Reports images/s.

#include "data/image_io.hpp"
#include "data/image_pipeline.hpp"

#include <benchmark/benchmark.h>
#include <filesystem>
#include <opencv2/core.hpp>
#include <unistd.h>

using namespace segforge::core;

namespace {

/// 64 random 128×128 pairs, written once per process and removed at exit.
const std::filesystem::path& benchData() {
    struct Data {
        std::filesystem::path root;
        Data() {
            root = std::filesystem::temp_directory_path() /
                   ("segforge_data_bench_" + std::to_string(::getpid()));
            std::filesystem::create_directories(root / "images");
            std::filesystem::create_directories(root / "masks");
            cv::RNG rng(1);
            for (int i = 0; i < 64; ++i) {
                cv::Mat image(128, 128, CV_8UC3), mask(128, 128, CV_8UC1);
                rng.fill(image, cv::RNG::UNIFORM, 0, 256);
                rng.fill(mask, cv::RNG::UNIFORM, 0, 2);
                const std::string name = "b" + std::to_string(i) + ".png";
                writeImage(root / "images" / name, image);
                writeImage(root / "masks" / name, mask * 255);
            }
        }
        ~Data() {
            std::error_code ec;
            std::filesystem::remove_all(root, ec);
        }
    };
    static Data data;
    return data.root;
}

void runFeed(benchmark::State& state, bool augmentOn) {
    PipelineOptions o;
    o.spec = {benchData() / "images", benchData() / "masks"};
    o.maskMode = MaskMode::Binary;
    o.batchSize = 16;
    o.validationFraction = 0;
    o.augment.flips = augmentOn;
    o.augment.rotate90 = augmentOn;
    o.augment.brightness = augmentOn ? 0.1 : 0.0;
    o.augment.contrast = augmentOn ? 0.1 : 0.0;
    ImageFolderSource source(o);
    for (std::size_t i = 0; i < source.trainBatchCount(); ++i) // warm the cache
        benchmark::DoNotOptimize(source.trainBatch(i));
    int epoch = 1;
    std::size_t images = 0;
    for (auto _ : state) {
        source.beginEpoch(epoch++);
        for (std::size_t i = 0; i < source.trainBatchCount(); ++i) {
            Batch b = source.trainBatch(i);
            images += static_cast<std::size_t>(b.image.batch());
            benchmark::DoNotOptimize(b.image.bytes());
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(images));
    state.counters["images/s"] =
        benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsRate);
}

void BM_DataFeed128Cached(benchmark::State& state) {
    runFeed(state, false);
}
void BM_DataFeed128CachedAugmented(benchmark::State& state) {
    runFeed(state, true);
}

} // namespace

BENCHMARK(BM_DataFeed128Cached)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DataFeed128CachedAugmented)->Unit(benchmark::kMillisecond)->UseRealTime();
