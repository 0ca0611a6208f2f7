#include "onnx/protobuf_writer.hpp"

#include <bit>
#include <cstring>

namespace segforge::core::interop {

namespace {
constexpr int kVarint = 0;
constexpr int kLengthDelimited = 2;
constexpr int kFixed32 = 5;
} // namespace

void ProtoWriter::rawVarint(std::uint64_t value) {
    while (value >= 0x80) {
        m_out += static_cast<char>((value & 0x7f) | 0x80);
        value >>= 7;
    }
    m_out += static_cast<char>(value);
}

void ProtoWriter::tag(int field, int wireType) {
    rawVarint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wireType));
}

void ProtoWriter::varint(int field, std::int64_t value) {
    tag(field, kVarint);
    rawVarint(static_cast<std::uint64_t>(value));
}

void ProtoWriter::float32(int field, float value) {
    static_assert(std::endian::native == std::endian::little, "the wire format is little-endian");
    tag(field, kFixed32);
    char raw[4];
    std::memcpy(raw, &value, 4);
    m_out.append(raw, 4);
}

void ProtoWriter::bytes(int field, std::string_view data) {
    tag(field, kLengthDelimited);
    rawVarint(data.size());
    m_out.append(data);
}

} // namespace segforge::core::interop
