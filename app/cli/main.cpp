#include "cli/commands.hpp"

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* kUsage = R"(segforge-cli — build and check image-segmentation networks

usage:
  segforge-cli check FILE [--json] [--max-size N] [--data DIR | --no-data]
      Infer the tensor type on every edge and report every mistake. FILE is a
      project or a Keras model (model.to_json() or .keras; no-loss is then a warning).
      A project's Dataset folders (or DIR/images, DIR/masks) are probed so the
      report shows the data's real types and data mistakes; --no-data skips that.
      Exit 0: clean (warnings allowed), 1: errors found, 2: unreadable input.
  segforge-cli template unet -o FILE [--depth D] [--filters F] [--size S]
      [--channels C] [--classes K] [--batchnorm] [--up transpose|upsample|upsample_conv]
      Write a complete, clean U-Net project.
  segforge-cli ops [--json]
      List every op with its ports and attributes.
  segforge-cli sample-data -o DIR [--count N] [--size S] [--seed K]
      Generate a binary segmentation dataset: DIR/images/*.png (RGB) and
      DIR/masks/*.png (0/255). The same seed gives the same files.
  segforge-cli train PROJECT [--data DIR] [--epochs N] [--batch B] [--lr X]
      [--seed S] [--threads T] [--out DIR] [--resume]
      Train on the Dataset node's folders (or DIR/images, DIR/masks); write
      OUT/metrics.csv, OUT/weights.safetensors and OUT/checkpoint.safetensors.
      Exit 3 naming the node if training hits NaN/Inf.
  segforge-cli bench PROJECT [--batch 8] [--steps 20] [--threads 2] [--json]
      Median training-step and single-image inference time, GFLOP/s, peak RSS.
  segforge-cli predict PROJECT --weights W --images DIR --out DIR
      [--masks DIR] [--threshold T]
      Write DIR/<stem>_mask.png and <stem>_overlay.png for every image (and
      <stem>_compare.png against ground-truth masks).
  segforge-cli import MODEL.json|MODEL.keras -o PROJECT.segforge
      Import a Keras model; unsupported layers become KerasLayer placeholders.
  segforge-cli export PROJECT --to keras|pytorch|keras-json|onnx -o FILE [--weights W]
      Write a self-contained Python training script (Keras 3 or PyTorch) that
      builds the same network with the same layer names, Keras 3 model JSON,
      or an ONNX model (opset 13, NHWC inputs/outputs) with the weights of W
      (default: the seeded initial weights).
  segforge-cli --version
)";

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << kUsage;
        return args.empty() ? segforge::cli::kExitBadInput : segforge::cli::kExitOk;
    }
    if (args[0] == "--version") {
        std::cout << "segforge-cli 0.1.0\n";
        return 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    try {
        if (command == "check")
            return segforge::cli::runCheck(args);
        if (command == "template")
            return segforge::cli::runTemplate(args);
        if (command == "ops")
            return segforge::cli::runOps(args);
        if (command == "sample-data")
            return segforge::cli::runSampleData(args);
        if (command == "import")
            return segforge::cli::runImport(args);
        if (command == "export")
            return segforge::cli::runExport(args);
        if (command == "train")
            return segforge::cli::runTrain(args);
        if (command == "bench")
            return segforge::cli::runBench(args);
        if (command == "predict")
            return segforge::cli::runPredict(args);
    } catch (const std::exception& e) {
        std::cerr << "segforge-cli " << command << ": internal error: " << e.what() << "\n";
        return segforge::cli::kExitInternalError;
    }
    std::cerr << "segforge-cli: unknown command '" << command << "'\n\n" << kUsage;
    return segforge::cli::kExitBadInput;
}
