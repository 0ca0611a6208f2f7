// Fuzz target for the ONNX reader and importer: any bytes must give an
// OnnxFile or one located error (fuzz_checks.hpp), never a crash, a hang, a
// huge allocation or undefined behaviour. A file the reader accepts is
// imported, and a project the importer makes is checked, since that walks
// whatever graph the importer built.
//
// Built with -DSEGFORGE_ONNX_READER_ONLY the target runs the reader alone:
// then it links with just onnx_reader.cpp, util/bounded_json.cpp and
// protobuf, for a quick sanitized libFuzzer build without the whole core
// (a minute instead of the half hour an instrumented core takes on 2 cores):
//   clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined,float-cast-overflow
//     -DONNX_ML=1 -DONNX_NAMESPACE=onnx -DSEGFORGE_ONNX_READER_ONLY -Icore
//     -Ibuild/test/core/generated -Itests/fuzz core/onnx/onnx_reader.cpp
//     core/util/bounded_json.cpp tests/fuzz/onnx_import_fuzz.cpp
//     -o build/fuzz-onnx/onnx_reader_fuzz -lonnx_proto -lprotobuf
//   build/fuzz-onnx/onnx_reader_fuzz -dict=tests/fuzz/onnx.dict CORPUS_COPY/
// Seeds: tests/fuzz/make_onnx_seeds.py; found-* files are inputs the fuzzer
// reached that take one refusal path each (kept small, replayed in CI).

#include "fuzz_checks.hpp"
#include "onnx/onnx_reader.hpp"

#ifndef SEGFORGE_ONNX_READER_ONLY
#include "check/checker.hpp"
#include "onnx/onnx_import.hpp"
#endif

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace segforge::core;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    (void)interop::looksLikeOnnx(bytes);
    std::string error;
    // No external data folder: a tensor stored outside the file is refused, never read.
    const auto file = interop::readOnnx(bytes, "fuzz.onnx", error);
    if (!file) {
        segforge::fuzz::requireLocated(error, "fuzz.onnx");
        return 0;
    }
    // What the reader promises of an accepted file.
    for (const auto& t : file->graph.initializers) {
        const auto count = static_cast<std::size_t>(t.elementCount());
        if (t.elementCount() < 0 || t.floats.size() + t.ints.size() != count ||
            (!t.floats.empty() && !t.ints.empty())) {
            std::fprintf(stderr, "initializer with values not matching its dims\n");
            std::abort();
        }
    }
#ifndef SEGFORGE_ONNX_READER_ONLY
    OnnxImport imported = importOnnx(*file, "fuzz.onnx");
    segforge::fuzz::requireLocated(imported.errors, "fuzz.onnx");
    segforge::fuzz::requireLocated(imported.warnings, "fuzz.onnx");
    if (!imported.ok())
        return 0;
    CheckOptions options;
    options.diagnoseInputSize = false;
    options.requireLoss = false;
    (void)checkGraph(imported.project->graph, options);
#endif
    return 0;
}
