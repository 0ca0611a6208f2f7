#include "util/file_text.hpp"

#include "util/str_cat.hpp"

#include <fstream>

namespace segforge::core {

std::optional<std::string> readFileText(const std::filesystem::path& path, std::uint64_t maxBytes,
                                        std::string& error) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
        error = strCat(path.string(), ": cannot open the file (no such file)");
        return std::nullopt;
    }
    if (fs::is_directory(status)) {
        error = strCat(path.string(), ": is a folder, not a file");
        return std::nullopt;
    }
    if (!fs::is_regular_file(status)) {
        error = strCat(path.string(), ": is not a regular file");
        return std::nullopt;
    }
    const std::uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > maxBytes) {
        error = strCat(path.string(), ": ", size, " bytes is more than the ", maxBytes >> 20,
                       " MiB this kind of file can be (refused before reading)");
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = strCat(path.string(), ": cannot open the file (permission denied)");
        return std::nullopt;
    }
    std::string text;
    text.resize(static_cast<std::size_t>(ec ? 0 : size));
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (static_cast<std::uintmax_t>(in.gcount()) != text.size()) {
        error = strCat(path.string(), ": the file could not be read to its end");
        return std::nullopt;
    }
    return text;
}

} // namespace segforge::core
