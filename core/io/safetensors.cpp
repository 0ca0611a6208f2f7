#include "io/safetensors.hpp"

#include "util/str_cat.hpp"

#include <nlohmann/json.hpp>

#include <bit>
#include <cstring>
#include <fstream>
#include <system_error>

namespace segforge::core {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; add byte swapping for this platform");

namespace {

void putU64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

} // namespace

std::string saveSafetensors(const std::filesystem::path& path,
                            const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                            const std::map<std::string, std::string>& metadata) {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        if (t->dtype() != DType::Float32)
            return strCat("tensor '", name, "' is ", t->describe(), "; only float32 is written");
        if (header.contains(name))
            return strCat("tensor name '", name, "' appears twice");
        header[name] = {{"dtype", "F32"},
                        {"shape", t->shape().dims()},
                        {"data_offsets", {offset, offset + t->byteSize()}}};
        offset += t->byteSize();
    }
    std::string text = header.dump();
    while (text.size() % 8 != 0) // the format allows trailing spaces; aligned data is friendlier
        text.push_back(' ');
    std::string prefix;
    putU64(prefix, text.size());

    std::filesystem::path temp = path;
    temp += ".tmp";
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        if (!out)
            return strCat("cannot write '", temp.string(), "'");
        out.write(prefix.data(), static_cast<std::streamsize>(prefix.size()));
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        for (const auto& entry : tensors)
            out.write(reinterpret_cast<const char*>(entry.second->bytes()),
                      static_cast<std::streamsize>(entry.second->byteSize()));
        out.flush();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(temp, ignored);
            return strCat("writing '", temp.string(), "' failed (disk full?)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    if (ec) {
        std::filesystem::remove(temp, ec);
        return strCat("cannot replace '", path.string(), "': ", ec.message());
    }
    return {};
}

SafetensorsData loadSafetensors(const std::filesystem::path& path, std::string& error) {
    SafetensorsData data;
    error.clear();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = strCat("cannot open '", path.string(), "'");
        return data;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string where = path.filename().string();
    if (bytes.size() < 8) {
        error = strCat(where, ": ", bytes.size(), " bytes is too short for a safetensors file");
        return data;
    }
    std::uint64_t headerSize = 0;
    for (int i = 0; i < 8; ++i)
        headerSize |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)])) << (8 * i);
    if (headerSize > bytes.size() - 8) {
        error = strCat(where, ": header length ", headerSize, " exceeds the file size ", bytes.size());
        return data;
    }
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(headerSize));
    } catch (const std::exception& e) {
        error = strCat(where, ": the JSON header is invalid: ", e.what());
        return data;
    }
    if (!header.is_object()) {
        error = strCat(where, ": the JSON header is not an object");
        return data;
    }
    const std::size_t base = 8 + static_cast<std::size_t>(headerSize);
    const std::size_t dataSize = bytes.size() - base;
    try {
        for (const auto& [name, entry] : header.items()) {
            if (name == "__metadata__") {
                for (const auto& [k, v] : entry.items())
                    data.metadata[k] = v.get<std::string>();
                continue;
            }
            const std::string dtype = entry.at("dtype").get<std::string>();
            if (dtype != "F32") {
                error = strCat(where, ": tensor '", name, "' has dtype ", dtype, "; only F32 is supported");
                return {};
            }
            const auto dims = entry.at("shape").get<std::vector<std::int64_t>>();
            const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
            Tensor t(Shape(dims), DType::Float32);
            if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > dataSize ||
                offsets[1] - offsets[0] != t.byteSize()) {
                error = strCat(where, ": tensor '", name, "' with shape ", Shape(dims).toString(),
                               " needs ", t.byteSize(), " bytes but its data_offsets do not fit the file");
                return {};
            }
            std::memcpy(t.bytes(), bytes.data() + base + offsets[0], t.byteSize());
            data.tensors.emplace(name, std::move(t));
        }
    } catch (const std::exception& e) {
        error = strCat(where, ": malformed header entry: ", e.what());
        return {};
    }
    return data;
}

} // namespace segforge::core
