// Fuzz target for the safetensors reader: any bytes must give tensors or a
// located refusal, never a crash, undefined behaviour or an allocation larger
// than the input (every accepted tensor is backed by bytes of the input).

#include "io/safetensors.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace segforge::core;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::string error;
    const SafetensorsData read = readSafetensors(bytes, "fuzz.safetensors", error);
    if (!error.empty()) {
        // Refusals name the file, and return nothing half-read.
        if (error.rfind("fuzz.safetensors", 0) != 0 || !read.tensors.empty() ||
            !read.metadata.empty())
            std::abort();
        return 0;
    }
    std::size_t total = 0;
    for (const auto& [name, t] : read.tensors) {
        if (t.dtype() != DType::Float32 || t.byteSize() != static_cast<std::size_t>(t.numel()) * 4)
            std::abort();
        total += t.byteSize();
    }
    if (total > size)
        std::abort();
    return 0;
}
