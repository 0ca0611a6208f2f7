// Hostile and broken safetensors files: every refusal names the file and the
// field, and nothing is allocated from a size the file does not back. Also the
// crash-consistent writer (atomic_file) and Tensor's overflow checks.

#include "io/atomic_file.hpp"
#include "io/safetensors.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <unistd.h>

using namespace segforge::core;
namespace fs = std::filesystem;

namespace {

/// An 8-byte length, the header text, then `dataBytes` zero bytes.
std::string fileOf(const std::string& header, std::size_t dataBytes) {
    std::string out;
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xFF));
    return out + header + std::string(dataBytes, '\0');
}

/// The error reading `bytes` as "w.safetensors" ("" when it loads).
std::string refusal(const std::string& bytes) {
    std::string error;
    const SafetensorsData data = readSafetensors(bytes, "w.safetensors", error);
    if (!error.empty()) {
        EXPECT_TRUE(data.tensors.empty());
        EXPECT_TRUE(data.metadata.empty());
    }
    return error;
}

std::string oneTensor(const std::string& shape, const std::string& offsets,
                      const std::string& dtype = "\"F32\"") {
    return R"({"a": {"dtype": )" + dtype + R"(, "shape": )" + shape + R"(, "data_offsets": )" +
           offsets + "}}";
}

fs::path scratchDir() {
    const fs::path dir =
        fs::temp_directory_path() / ("segforge_st_hostile_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

std::string readAll(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

TEST(SafetensorsHostile, ShapesAreCheckedBeforeAnythingIsAllocated) {
    // 4 TB claimed by a 4-byte data section.
    EXPECT_EQ(refusal(fileOf(oneTensor("[1000000000000]", "[0, 4]"), 4)),
              "w.safetensors: tensor 'a'.data_offsets: [0, 4] holds 4 bytes, but shape "
              "1000000000000 of F32 needs "
              "4000000000000");
    EXPECT_EQ(refusal(fileOf(oneTensor("[1000000000000]", "[0, 4000000000000]"), 0)),
              "w.safetensors: tensor 'a'.data_offsets: [0, 4000000000000] reaches beyond the data "
              "section, which "
              "holds 0 bytes");
    // 2^32 × 2^32 overflows a signed 64-bit count; 2^62 elements overflow the byte size.
    EXPECT_EQ(refusal(fileOf(oneTensor("[4294967296, 4294967296]", "[0, 0]"), 0)),
              "w.safetensors: tensor 'a'.shape: 4294967296×4294967296 has more elements than can "
              "be addressed");
    EXPECT_EQ(refusal(fileOf(oneTensor("[4611686018427387904]", "[0, 0]"), 0)),
              "w.safetensors: tensor 'a'.shape: 4611686018427387904 has more elements than can be "
              "addressed");
    // A zero dimension does not excuse the others: any loop over the dims would overflow first.
    EXPECT_EQ(refusal(fileOf(oneTensor("[4294967296, 4294967296, 0]", "[0, 0]"), 0)),
              "w.safetensors: tensor 'a'.shape: 4294967296×4294967296×0 has more elements than can "
              "be addressed");
    EXPECT_EQ(refusal(fileOf(oneTensor("[18446744073709551615]", "[0, 0]"), 0)),
              "w.safetensors: tensor 'a'.shape[0]: 18446744073709551615 is not a dimension (a "
              "whole number ≥ 0)");
    EXPECT_EQ(refusal(fileOf(oneTensor("[2, -3]", "[0, 0]"), 0)),
              "w.safetensors: tensor 'a'.shape[1]: -3 is not a dimension (a whole number ≥ 0)");
    EXPECT_EQ(refusal(fileOf(oneTensor("[2.5]", "[0, 0]"), 0)),
              "w.safetensors: tensor 'a'.shape[0]: 2.5 is not a dimension (a whole number ≥ 0)");
    EXPECT_EQ(refusal(fileOf(oneTensor("[\"2\"]", "[0, 0]"), 0)),
              "w.safetensors: tensor 'a'.shape[0]: \"2\" is not a dimension (a whole number ≥ 0)");
    EXPECT_EQ(refusal(fileOf(oneTensor("{}", "[0, 0]"), 0)),
              "w.safetensors: tensor 'a'.shape: is an object, not an array of dimensions");
    std::string rank65 = "[1";
    for (int i = 1; i < 65; ++i)
        rank65 += ", 1";
    EXPECT_EQ(refusal(fileOf(oneTensor(rank65 + "]", "[0, 4]"), 4)),
              "w.safetensors: tensor 'a'.shape: 65 dimensions; at most 64 are read");
}

TEST(SafetensorsHostile, OffsetsMustTileTheDataSectionExactly) {
    EXPECT_EQ(refusal(fileOf(oneTensor("[2, 3]", "[0, 400]"), 24)),
              "w.safetensors: tensor 'a'.data_offsets: [0, 400] reaches beyond the data section, "
              "which holds 24 bytes");
    EXPECT_EQ(refusal(fileOf(oneTensor("[2]", "[8, 0]"), 8)),
              "w.safetensors: tensor 'a'.data_offsets: [8, 0] ends before it begins");
    EXPECT_EQ(
        refusal(fileOf(oneTensor("[2]", "[0]"), 8)),
        "w.safetensors: tensor 'a'.data_offsets: [0] is not [begin, end] (two whole numbers ≥ 0)");
    EXPECT_EQ(refusal(fileOf(oneTensor("[2]", "[0, -8]"), 8)),
              "w.safetensors: tensor 'a'.data_offsets: [0, -8] is not [begin, end] (two whole "
              "numbers ≥ 0)");
    EXPECT_EQ(refusal(fileOf(oneTensor("[2, 3]", "[0, 20]"), 20)),
              "w.safetensors: tensor 'a'.data_offsets: [0, 20] holds 20 bytes, but shape 2×3 of "
              "F32 needs 24");
    EXPECT_EQ(refusal(fileOf(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                 "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})",
                             24)),
              "w.safetensors: tensor 'b'.data_offsets: [8, 24] overlaps tensor 'a' [0, 16]");
    EXPECT_EQ(refusal(fileOf(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                 "b": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})",
                             16)),
              "w.safetensors: tensor 'b'.data_offsets: [0, 16] overlaps tensor 'a' [0, 16]");
    EXPECT_EQ(refusal(fileOf(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}})",
                             24)),
              "w.safetensors: tensor 'b'.data_offsets: [16, 24] leaves bytes 8–16 of the data "
              "section to no tensor "
              "(the format allows no holes)");
    EXPECT_EQ(refusal(fileOf(oneTensor("[2]", "[0, 8]"), 16)),
              "w.safetensors: header: the tensors cover 8 of the 16 bytes of the data section (the "
              "format allows no "
              "trailing bytes)");
    // In any order in the header, and empty tensors anywhere on the boundaries.
    EXPECT_EQ(refusal(fileOf(R"({"z": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "e": {"dtype": "F32", "shape": [0, 5], "data_offsets": [8, 8]},
                                 "a": {"dtype": "F32", "shape": [1, 1], "data_offsets": [8, 12]}})",
                             12)),
              "");
}

TEST(SafetensorsHostile, EntriesAndMetadataAreTyped) {
    EXPECT_EQ(refusal(fileOf(R"({"a": 5})", 0)), "w.safetensors: tensor 'a': is an integer, not an "
                                                 "object with dtype, shape and data_offsets");
    EXPECT_EQ(refusal(fileOf(R"({"a": {"shape": [1], "data_offsets": [0, 4]}})", 4)),
              "w.safetensors: tensor 'a'.dtype: missing");
    EXPECT_EQ(refusal(fileOf(R"({"a": {"dtype": "F32", "shape": [1]}})", 4)),
              "w.safetensors: tensor 'a'.data_offsets: missing");
    EXPECT_EQ(refusal(fileOf(oneTensor("[1]", "[0, 2]", "\"F16\""), 2)),
              "w.safetensors: tensor 'a'.dtype: 'F16' is not supported; only F32 is");
    EXPECT_EQ(refusal(fileOf(oneTensor("[1]", "[0, 4]", "32"), 4)),
              "w.safetensors: tensor 'a'.dtype: is an integer, not a string");
    EXPECT_EQ(
        refusal(fileOf(R"({"__metadata__": {"format": 3}})", 0)),
        "w.safetensors: __metadata__ 'format': is an integer; metadata values must be strings");
    EXPECT_EQ(
        refusal(fileOf(R"({"__metadata__": {"format": {"x": "y"}}})", 0)),
        "w.safetensors: __metadata__ 'format': is an object; metadata values must be strings");
    EXPECT_EQ(refusal(fileOf(R"({"__metadata__": ["format"]})", 0)),
              "w.safetensors: __metadata__: is an array, not an object of strings");
    // Names are quoted bounded and printable.
    const std::string longName(300, 'n');
    EXPECT_EQ(refusal(fileOf(R"({")" + longName + R"(\n": 1})", 0)),
              "w.safetensors: tensor '" + std::string(120, 'n') +
                  "…': is an integer, not an object with dtype, shape "
                  "and data_offsets");
}

TEST(SafetensorsHostile, HeadersAreBoundedAndLocated) {
    EXPECT_EQ(
        refusal("abc"),
        "w.safetensors: 3 bytes is too short for a safetensors file (the header length takes 8)");
    EXPECT_EQ(refusal(fileOf("[1, 2]", 0)),
              "w.safetensors: header: is an array, not a JSON object");
    EXPECT_EQ(refusal(fileOf("\"x\"", 0)), "w.safetensors: header: is a string, not a JSON object");
    std::string tooLong = fileOf("{}", 0);
    tooLong[0] = 100;
    EXPECT_EQ(refusal(tooLong), "w.safetensors: header: length 100 exceeds the file size 10");
    const std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
    const std::string nested = refusal(fileOf(deep, 0));
    EXPECT_EQ(nested.rfind("w.safetensors: header: the JSON header is invalid at 1:", 0), 0u)
        << nested;
    EXPECT_NE(nested.find("nest deeper than 512"), std::string::npos) << nested;
    const std::string syntax = refusal(fileOf("{no}", 0));
    EXPECT_EQ(
        syntax.rfind("w.safetensors: header: the JSON header is invalid at 1:3: not valid JSON", 0),
        0u)
        << syntax;
    EXPECT_EQ(refusal(fileOf("{}", 0)), "");
    EXPECT_EQ(refusal(fileOf("{}   ", 0)), "") << "the format pads headers with spaces";

    // A 300 MB file (sparse: no disk used) declaring a 200 MB header: refused by the cap, not read.
    const fs::path big = scratchDir() / "big.safetensors";
    {
        std::ofstream out(big, std::ios::binary);
        const std::uint64_t n = 200'000'000;
        for (int i = 0; i < 8; ++i)
            out.put(static_cast<char>((n >> (8 * i)) & 0xFF));
    }
    fs::resize_file(big, 300'000'000);
    std::string error;
    loadSafetensors(big, error);
    EXPECT_EQ(error,
              "big.safetensors: header: length 200000000 exceeds the limit of 100000000 bytes");
    loadSafetensors(scratchDir(), error);
    EXPECT_NE(error.find("is a folder"), std::string::npos) << error;
    fs::remove_all(scratchDir());
}

TEST(SafetensorsHostile, FilesAndMemoryReadTheSame) {
    Tensor a(Shape{2, 3}, DType::Float32);
    for (int i = 0; i < 6; ++i)
        a.f32()[i] = static_cast<float>(i) - 2.5f;
    Tensor empty(Shape{0, 4}, DType::Float32);
    Tensor b(Shape{1}, DType::Float32);
    b.f32()[0] = 7;
    const fs::path file = scratchDir() / "ok.safetensors";
    ASSERT_EQ(
        saveSafetensors(file, {{"a", &a}, {"empty", &empty}, {"b", &b}}, {{"format", "segforge"}}),
        "");
    std::string error;
    const SafetensorsData fromFile = loadSafetensors(file, error);
    ASSERT_EQ(error, "");
    const SafetensorsData fromMemory = readSafetensors(readAll(file), "ok.safetensors", error);
    ASSERT_EQ(error, "");
    for (const SafetensorsData* d : {&fromFile, &fromMemory}) {
        ASSERT_EQ(d->tensors.size(), 3u);
        EXPECT_EQ(d->tensors.at("a").describe(), "2×3 f32");
        EXPECT_EQ(std::memcmp(d->tensors.at("a").bytes(), a.bytes(), a.byteSize()), 0);
        EXPECT_EQ(d->tensors.at("empty").describe(), "0×4 f32");
        EXPECT_EQ(d->tensors.at("b").f32()[0], 7.0f);
        EXPECT_EQ(d->metadata.at("format"), "segforge");
    }
    // Every truncation is refused with a message, never a crash.
    const std::string bytes = readAll(file);
    for (std::size_t n = 0; n < bytes.size(); ++n)
        EXPECT_NE(refusal(bytes.substr(0, n)), "") << n;
    fs::remove_all(scratchDir());
}

TEST(SafetensorsAtomicFile, WritesRenameAndLeaveNoTemporaries) {
    const fs::path dir = scratchDir();
    const fs::path file = dir / "out.txt";
    ASSERT_EQ(writeFileAtomically(file, "first"), "");
    ASSERT_EQ(writeFileAtomically(file, "second"), "");
    EXPECT_EQ(readAll(file), "second");
    // A writer that fails leaves the old file and no temporary.
    EXPECT_EQ(writeFileAtomically(file,
                                  [](AtomicFileSink& sink) {
                                      sink.write("partial");
                                      return std::string("the writer gave up");
                                  }),
              "the writer gave up");
    EXPECT_EQ(readAll(file), "second");
    ASSERT_EQ(appendToFileDurably(file, " and more"), "");
    EXPECT_EQ(readAll(file), "second and more");
    int entries = 0;
    for (const auto& e : fs::directory_iterator(dir))
        entries += e.is_regular_file();
    EXPECT_EQ(entries, 1);
    const std::string missing = writeFileAtomically(dir / "no" / "such" / "file", "x");
    EXPECT_EQ(missing.rfind("cannot write '" + (dir / "no" / "such" / "file.tmp-").string(), 0), 0u)
        << missing;

    EXPECT_TRUE(isAtomicWriteTemporary("checkpoint.safetensors.tmp"));
    EXPECT_TRUE(isAtomicWriteTemporary("checkpoint.safetensors.tmp-123-0"));
    EXPECT_TRUE(isAtomicWriteTemporary("metrics.csv.tmp-9-17"));
    EXPECT_FALSE(isAtomicWriteTemporary("checkpoint.safetensors"));
    EXPECT_FALSE(isAtomicWriteTemporary(".tmp"));
    EXPECT_FALSE(isAtomicWriteTemporary("notes.tmp-draft"));
    EXPECT_FALSE(isAtomicWriteTemporary("a.tmp-1"));
    EXPECT_FALSE(isAtomicWriteTemporary("a.tmp-1-2-3"));
    for (const char* name :
         {"weights.safetensors.tmp", "checkpoint.safetensors.tmp-4-1", "keep.tmp-x"})
        std::ofstream(dir / name) << "x";
    EXPECT_EQ(removeStaleTemporaries(dir), 2);
    EXPECT_TRUE(fs::exists(dir / "keep.tmp-x"));
    EXPECT_TRUE(fs::exists(file));
    fs::remove_all(dir);
}

TEST(SafetensorsTensorSizes, ShapesThatCannotBeAddressedAreRefused) {
    const auto numel = [](std::vector<std::int64_t> dims) {
        return Shape(std::move(dims)).checkedNumel();
    };
    const auto tensor = [](std::vector<std::int64_t> dims) {
        return Tensor(Shape(std::move(dims)), DType::Float32);
    };
    constexpr std::int64_t k32 = std::int64_t{1} << 32;
    EXPECT_EQ(numel({2, 3, 0}), 0);
    EXPECT_EQ(numel({2, 3, 4}), 24);
    EXPECT_EQ(numel({}), 1);
    EXPECT_FALSE(numel({Shape::kBatch, 3}));
    EXPECT_FALSE(numel({k32, k32}));
    EXPECT_FALSE(numel({k32, k32, 0}));
    EXPECT_THROW(tensor({k32, k32}), std::invalid_argument);
    // 2^62 float32 elements: the element count fits, the byte size does not.
    EXPECT_THROW(tensor({std::int64_t{1} << 62}), std::invalid_argument);
    EXPECT_THROW(tensor({2, -1}), std::invalid_argument);
    const Tensor t = tensor({2, 3});
    EXPECT_THROW((void)t.reshaped(Shape({k32, k32})), std::invalid_argument);
    EXPECT_EQ(t.reshaped(Shape({3, 2})).describe(), "3×2 f32");
}

// The fuzz seeds (tests/fuzz/make_seeds.sh) are what their names say.
TEST(SafetensorsHostile, FuzzSeedsAreWhatTheirNamesSay) {
    const fs::path dir = fs::path(SEGFORGE_TEST_DATA) / ".." / "fuzz" / "safetensors";
    int valid = 0, bad = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        std::string error;
        loadSafetensors(entry.path(), error);
        if (name.rfind("valid_", 0) == 0) {
            EXPECT_EQ(error, "") << name;
            ++valid;
        } else if (name.rfind("bad_", 0) == 0) {
            EXPECT_EQ(error.rfind(name + ": ", 0), 0u) << name << ": " << error;
            ++bad;
        }
    }
    EXPECT_GE(valid, 3);
    EXPECT_GE(bad, 10);
}
