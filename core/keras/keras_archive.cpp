#include "keras/keras_archive.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <fstream>
#include <string_view>
#include <zip.h>

namespace segforge::core::interop {

namespace {
/// config.json of a real model is a few hundred kilobytes (a 300-layer model
/// about 2 MB); the limit is checked against the entry's declared size before
/// anything is inflated, and zip_fread never inflates past it.
constexpr std::uint64_t kMaxConfigBytes = 32ull << 20;
/// JSON deflates about 10:1; deflate cannot exceed about 1032:1. A large entry
/// far beyond JSON's ratio is a decompression bomb, whatever it declares.
constexpr std::uint64_t kMaxConfigRatio = 200;
constexpr std::uint64_t kRatioCheckedFrom = 1ull << 20;
} // namespace

bool looksLikeZipFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    return in.read(magic, 4) && std::string_view(magic, 4) == std::string_view("PK\x03\x04", 4);
}

std::optional<std::string> readKerasArchiveConfig(const std::filesystem::path& path,
                                                  std::string& error) {
    int code = 0;
    zip_t* archive = zip_open(path.string().c_str(), ZIP_RDONLY, &code);
    if (!archive) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, code);
        error = strCat(path.string(), ": not a readable .keras archive (", zip_error_strerror(&ze),
                       ")");
        zip_error_fini(&ze);
        return std::nullopt;
    }
    std::optional<std::string> text;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(archive, "config.json", 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        error = strCat(path.string(),
                       ": the archive has no config.json (is it a Keras 3 .keras file?)");
    } else if (st.size > kMaxConfigBytes) {
        error =
            strCat(path.string(), ":config.json: declares ", st.size, " bytes, more than the ",
                   kMaxConfigBytes >> 20, " MiB a model config can be (refused before inflating)");
    } else if ((st.valid & ZIP_STAT_COMP_SIZE) && st.size >= kRatioCheckedFrom &&
               st.size / std::max<std::uint64_t>(st.comp_size, 1) > kMaxConfigRatio) {
        error = strCat(path.string(), ":config.json: ", st.comp_size, " compressed bytes declare ",
                       st.size, " — a ratio no model config has (a decompression bomb?); refused");
    } else if (zip_file_t* file = zip_fopen(archive, "config.json", 0)) {
        std::string buf(static_cast<std::size_t>(st.size), '\0');
        const zip_int64_t n = buf.empty() ? 0 : zip_fread(file, buf.data(), buf.size());
        zip_fclose(file);
        if (n < 0 || static_cast<std::uint64_t>(n) != st.size)
            error = strCat(path.string(), ":config.json: the archive is damaged (read ", n, " of ",
                           st.size, " bytes)");
        else
            text = std::move(buf);
    } else {
        error = strCat(path.string(), ":config.json: cannot be read (", zip_strerror(archive), ")");
    }
    zip_discard(archive);
    return text;
}

} // namespace segforge::core::interop
