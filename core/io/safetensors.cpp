#include "io/safetensors.hpp"

#include "io/atomic_file.hpp"
#include "util/bounded_json.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <system_error>

namespace segforge::core {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; add byte swapping for this platform");

using nlohmann::json;

namespace {

void putU64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

/// More dimensions than any real tensor has; a bound keeps messages that
/// print a shape short.
constexpr std::size_t kMaxRank = 64;

/// A tensor name or metadata key as messages quote it.
std::string quotedName(std::string_view name) {
    return quotedText(name, 120);
}

/// A non-negative integer of the JSON text, or false (floats, negatives and
/// anything else are refused: 2.0 is not a dimension in this format).
bool unsignedValue(const json& v, std::uint64_t& out) {
    if (v.is_number_unsigned()) {
        out = v.get<std::uint64_t>();
        return true;
    }
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
        out = static_cast<std::uint64_t>(v.get<std::int64_t>());
        return true;
    }
    return false;
}

/// What the header says about one tensor, checked, before anything is allocated.
struct Entry {
    std::string name;
    std::vector<std::int64_t> dims;
    std::uint64_t begin = 0, end = 0;
};

/// Bytes of the file: its size and a reader of [offset, offset + size).
struct Source {
    std::uint64_t size = 0;
    std::function<bool(std::uint64_t offset, std::size_t size, void* into)> read;
};

std::string entryError(const std::string& where, const std::string& name, const char* field,
                       const std::string& what) {
    return strCat(where, ": tensor ", quotedName(name), field, ": ", what);
}

/// Checks one header entry into `out`; returns "" or the located reason.
std::string checkEntry(const std::string& where, const std::string& name, const json& entry,
                       std::uint64_t dataSize, Entry& out) {
    out.name = name;
    if (!entry.is_object())
        return entryError(where, name, "",
                          strCat("is ", jsonTypeName(entry),
                                 ", not an object with dtype, shape and data_offsets"));
    for (const char* field : {"dtype", "shape", "data_offsets"})
        if (!entry.contains(field))
            return entryError(where, name, (std::string(".") + field).c_str(), "missing");
    const json& dtype = entry.at("dtype");
    if (!dtype.is_string())
        return entryError(where, name, ".dtype",
                          strCat("is ", jsonTypeName(dtype), ", not a string"));
    if (dtype.get_ref<const std::string&>() != "F32")
        return entryError(where, name, ".dtype",
                          strCat(quotedName(dtype.get_ref<const std::string&>()),
                                 " is not supported; only F32 is"));

    const json& shape = entry.at("shape");
    if (!shape.is_array())
        return entryError(where, name, ".shape",
                          strCat("is ", jsonTypeName(shape), ", not an array of dimensions"));
    if (shape.size() > kMaxRank)
        return entryError(where, name, ".shape",
                          strCat(shape.size(), " dimensions; at most ", kMaxRank, " are read"));
    std::uint64_t numel = 1;
    bool zero = false, overflow = false;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        std::uint64_t d = 0;
        if (!unsignedValue(shape[i], d) ||
            d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return entryError(
                where, name, strCat(".shape[", i, "]").c_str(),
                strCat(jsonExcerpt(shape[i], 40), " is not a dimension (a whole number ≥ 0)"));
        out.dims.push_back(static_cast<std::int64_t>(d));
        if (d == 0)
            zero = true;
        else
            overflow = overflow || __builtin_mul_overflow(numel, d, &numel);
    }
    // The product of the non-zero dimensions must fit even when another is 0, so
    // that Tensor (and any loop over the dimensions) can multiply them in any order.
    std::uint64_t bytes = 0;
    if (overflow || __builtin_mul_overflow(numel, std::uint64_t{4}, &bytes) ||
        bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return entryError(
            where, name, ".shape",
            strCat(Shape(out.dims).toString(), " has more elements than can be addressed"));
    if (zero)
        bytes = 0;

    const json& offsets = entry.at("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2 || !unsignedValue(offsets[0], out.begin) ||
        !unsignedValue(offsets[1], out.end))
        return entryError(
            where, name, ".data_offsets",
            strCat(jsonExcerpt(offsets, 60), " is not [begin, end] (two whole numbers ≥ 0)"));
    const std::string range = strCat("[", out.begin, ", ", out.end, "]");
    if (out.begin > out.end)
        return entryError(where, name, ".data_offsets", strCat(range, " ends before it begins"));
    if (out.end > dataSize)
        return entryError(
            where, name, ".data_offsets",
            strCat(range, " reaches beyond the data section, which holds ", dataSize, " bytes"));
    if (out.end - out.begin != bytes)
        return entryError(where, name, ".data_offsets",
                          strCat(range, " holds ", out.end - out.begin, " bytes, but shape ",
                                 Shape(out.dims).toString(), " of F32 needs ", bytes));
    return {};
}

SafetensorsData readFrom(const Source& source, const std::string& where, std::string& error) {
    error.clear();
    if (source.size < 8) {
        error = strCat(where, ": ", source.size,
                       " bytes is too short for a safetensors file (the header length takes 8)");
        return {};
    }
    unsigned char prefix[8];
    if (!source.read(0, 8, prefix)) {
        error = strCat(where, ": cannot read the header length");
        return {};
    }
    std::uint64_t headerSize = 0;
    for (int i = 0; i < 8; ++i)
        headerSize |= static_cast<std::uint64_t>(prefix[i]) << (8 * i);
    if (headerSize > source.size - 8) {
        error =
            strCat(where, ": header: length ", headerSize, " exceeds the file size ", source.size);
        return {};
    }
    if (headerSize > kMaxSafetensorsHeaderBytes) {
        error = strCat(where, ": header: length ", headerSize, " exceeds the limit of ",
                       kMaxSafetensorsHeaderBytes, " bytes");
        return {};
    }
    std::string text(static_cast<std::size_t>(headerSize), '\0');
    if (!source.read(8, text.size(), text.data())) {
        error = strCat(where, ": header: cannot read its ", headerSize, " bytes");
        return {};
    }
    BoundedJson parsed = parseBoundedJson(text);
    if (!parsed.ok()) {
        error = strCat(where, ": header: the JSON header is invalid at ", parsed.error);
        return {};
    }
    text = std::string(); // the parsed value replaces it; do not hold both
    const json& header = parsed.value;
    if (!header.is_object()) {
        error = strCat(where, ": header: is ", jsonTypeName(header), ", not a JSON object");
        return {};
    }

    SafetensorsData data;
    const std::uint64_t base = 8 + headerSize;
    const std::uint64_t dataSize = source.size - base;
    std::vector<Entry> entries;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) {
                error = strCat(where, ": __metadata__: is ", jsonTypeName(entry),
                               ", not an object of strings");
                return {};
            }
            for (const auto& [key, value] : entry.items()) {
                if (!value.is_string()) {
                    error = strCat(where, ": __metadata__ ", quotedName(key), ": is ",
                                   jsonTypeName(value), "; metadata values must be strings");
                    return {};
                }
                data.metadata[key] = value.get_ref<const std::string&>();
            }
            continue;
        }
        Entry e;
        if (error = checkEntry(where, name, entry, dataSize, e); !error.empty())
            return {};
        entries.push_back(std::move(e));
    }
    // The format requires the tensors to tile the data section exactly: no
    // overlaps (two tensors aliasing bytes) and no holes (room for a second,
    // hidden payload — a polyglot file).
    std::vector<const Entry*> order;
    for (const Entry& e : entries)
        order.push_back(&e);
    std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    std::uint64_t covered = 0;
    const Entry* previous = nullptr;
    for (const Entry* e : order) {
        if (e->begin < covered) {
            error = entryError(where, e->name, ".data_offsets",
                               strCat("[", e->begin, ", ", e->end, "] overlaps tensor ",
                                      quotedName(previous->name), " [", previous->begin, ", ",
                                      previous->end, "]"));
            return {};
        }
        if (e->begin > covered) {
            error = entryError(
                where, e->name, ".data_offsets",
                strCat("[", e->begin, ", ", e->end, "] leaves bytes ", covered, "–", e->begin,
                       " of the data section to no tensor (the format allows no holes)"));
            return {};
        }
        covered = e->end;
        previous = e;
    }
    if (covered != dataSize) {
        error = strCat(where, ": header: the tensors cover ", covered, " of the ", dataSize,
                       " bytes of the data section (the format allows no trailing bytes)");
        return {};
    }
    // Everything is consistent and the sizes sum to the data section, which the
    // file holds: only now allocate, each tensor exactly its own bytes.
    for (const Entry* e : order) {
        Tensor t(Shape(e->dims), DType::Float32);
        if (t.byteSize() > 0 && !source.read(base + e->begin, t.byteSize(), t.bytes())) {
            error = entryError(where, e->name, "",
                               "the file ended before its data (was it changed while being read?)");
            return {};
        }
        data.tensors.emplace(e->name, std::move(t));
    }
    return data;
}

} // namespace

std::string saveSafetensors(const std::filesystem::path& path,
                            const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                            const std::map<std::string, std::string>& metadata) {
    json header = json::object();
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
    return writeFileAtomically(path, [&](AtomicFileSink& out) {
        out.write(prefix);
        out.write(text);
        for (const auto& entry : tensors)
            out.write(entry.second->bytes(), entry.second->byteSize());
        return std::string();
    });
}

SafetensorsData loadSafetensors(const std::filesystem::path& path, std::string& error) {
    const std::string where = path.filename().string();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        error = strCat(where, ": is a folder, not a safetensors file");
        return {};
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = strCat("cannot open '", path.string(), "'");
        return {};
    }
    in.seekg(0, std::ios::end);
    const std::streamoff end = in.tellg();
    if (end < 0) {
        error = strCat(where, ": cannot tell its size");
        return {};
    }
    Source source;
    source.size = static_cast<std::uint64_t>(end);
    source.read = [&in](std::uint64_t offset, std::size_t size, void* into) {
        in.clear();
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(static_cast<char*>(into), static_cast<std::streamsize>(size));
        return static_cast<bool>(in) && static_cast<std::size_t>(in.gcount()) == size;
    };
    return readFrom(source, where, error);
}

SafetensorsData readSafetensors(std::string_view bytes, const std::string& name,
                                std::string& error) {
    Source source;
    source.size = bytes.size();
    source.read = [bytes](std::uint64_t offset, std::size_t size, void* into) {
        if (offset > bytes.size() || size > bytes.size() - offset)
            return false;
        if (size > 0)
            std::memcpy(into, bytes.data() + offset, size);
        return true;
    };
    return readFrom(source, name, error);
}

} // namespace segforge::core
