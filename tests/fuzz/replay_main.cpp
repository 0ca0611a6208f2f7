// Without libFuzzer (GCC builds): replays files and folders given on the command
// line through the fuzz target, so the corpus and the fixtures stay a test.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int replay(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    // Every prefix too: truncated files are the commonest bad input.
    for (std::size_t n = 0; n < bytes.size(); n += 1 + bytes.size() / 64)
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), n);
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    int files = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path p(argv[i]);
        if (std::filesystem::is_directory(p)) {
            for (const auto& e : std::filesystem::recursive_directory_iterator(p))
                if (e.is_regular_file())
                    files += replay(e.path());
        } else if (std::filesystem::is_regular_file(p)) {
            files += replay(p);
        }
    }
    std::cout << "replayed " << files << " file(s) and their prefixes\n";
    return files > 0 ? 0 : 1;
}
