#pragma once

// The write side of the Protocol Buffers wire format, as much as ONNX needs:
// varints, 32-bit floats, length-delimited bytes and nested messages. Fields
// are written in the order they are added; repeated scalars unpacked (every
// parser accepts that form for proto2 and proto3 alike).

#include <cstdint>
#include <string>
#include <string_view>

namespace segforge::core::interop {

class ProtoWriter {
public:
    /// Wire type 0: int32, int64, uint64, bool, enum (negative values as 10-byte two's complement).
    void varint(int field, std::int64_t value);
    /// Wire type 5: float.
    void float32(int field, float value);
    /// Wire type 2: string, bytes.
    void bytes(int field, std::string_view data);
    /// Wire type 2: an embedded message.
    void message(int field, const ProtoWriter& sub) { bytes(field, sub.data()); }

    const std::string& data() const { return m_out; }

private:
    void tag(int field, int wireType);
    void rawVarint(std::uint64_t value);

    std::string m_out;
};

} // namespace segforge::core::interop
