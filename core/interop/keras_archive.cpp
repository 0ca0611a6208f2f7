#include "interop/keras_archive.hpp"

#include "util/str_cat.hpp"

#ifdef SEGFORGE_HAVE_LIBZIP
#include <zip.h>
#endif

namespace segforge::core::interop {

namespace {
/// config.json of a real model is a few hundred kilobytes; refuse absurd sizes.
constexpr std::uint64_t kMaxConfigBytes = 256ull << 20;
} // namespace

bool looksLikeZip(const std::string& bytes) { return bytes.rfind("PK\x03\x04", 0) == 0; }

#ifdef SEGFORGE_HAVE_LIBZIP

bool kerasArchivesSupported() { return true; }

std::optional<std::string> readKerasArchiveConfig(const std::filesystem::path& path, std::string& error) {
    int code = 0;
    zip_t* archive = zip_open(path.string().c_str(), ZIP_RDONLY, &code);
    if (!archive) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, code);
        error = strCat(path.string(), ": not a readable .keras archive (", zip_error_strerror(&ze), ")");
        zip_error_fini(&ze);
        return std::nullopt;
    }
    std::optional<std::string> text;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(archive, "config.json", 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        error = strCat(path.string(), ": the archive has no config.json (is it a Keras 3 .keras file?)");
    } else if (st.size > kMaxConfigBytes) {
        error = strCat(path.string(), ":config.json: ", st.size, " bytes is too large for a model config");
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

#else

bool kerasArchivesSupported() { return false; }

std::optional<std::string> readKerasArchiveConfig(const std::filesystem::path& path, std::string& error) {
    error = strCat(path.string(), ": this SegForge was built without a zip reader (libzip); unzip the "
                                  ".keras file and open its config.json instead");
    return std::nullopt;
}

#endif

} // namespace segforge::core::interop
