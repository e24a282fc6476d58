#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/wire/types.hpp"

namespace cyphonic::wire {

// Base Header (PROTOCOL.md §4, thesis fig. A.1): 32 bytes, network byte order.
//  0        4     5      6      7       8          12       14         15     16         32
//  | txn id | ver | flag | type | count | sequence | length | next opt | rsvd | id (128) |
struct BaseHeader {
    std::uint32_t transaction_id = 0;
    std::uint8_t version = kProtocolVersion;
    std::uint8_t flags = 0;
    MessageType type = MessageType::Ack;
    std::uint8_t count = 0;
    std::uint32_t sequence = 0;
    std::uint16_t message_length = 0;
    std::uint8_t next_opt = 0;
    std::array<std::byte, 16> id{};  // NodeID or PathID (§4.2)

    [[nodiscard]] bool has(std::uint8_t flag_mask) const noexcept {
        return (flags & flag_mask) == flag_mask;
    }
    [[nodiscard]] NodeId node_id() const noexcept { return NodeId(id); }
    [[nodiscard]] PathId path_id() const noexcept { return PathId(id); }
    template <class Tag>
    void set_id(const Id128<Tag>& v) noexcept {
        id = v.raw();
    }

    friend bool operator==(const BaseHeader&, const BaseHeader&) = default;
};

using HeaderBytes = std::span<std::byte, kBaseHeaderSize>;
using ConstHeaderBytes = std::span<const std::byte, kBaseHeaderSize>;

// Generic header check: 32 bytes present, Version 1, Type known, Next Opt 0,
// 32 ≤ Message Length ≤ input size. Transport rules are in the two functions below.
// The reserved byte and reserved flag bits are ignored (§0, §4.3).
[[nodiscard]] Expected<BaseHeader, DecodeError> decode_base_header(ByteView input) noexcept;

// UDP: additionally a type allowed on UDP and Message Length ≥ 48 (D20).
[[nodiscard]] Expected<BaseHeader, DecodeError> decode_udp_header(ByteView input) noexcept;

// AS stream: the header alone (32 bytes; the body has not been read yet), a type allowed on the
// stream and Count 0 (C21). Message Length ≥ 32 is checked; the caller then reads
// Message Length − 32 more bytes.
[[nodiscard]] Expected<BaseHeader, DecodeError> decode_stream_header(
    ConstHeaderBytes header) noexcept;

// Writes all fields; the reserved byte is written as zero.
void encode(const BaseHeader& header, HeaderBytes out) noexcept;

// One message of a datagram: its header and all its bytes (header, body as sent, trailer).
// `bytes` is a view into the datagram, valid while the datagram buffer lives.
struct MessageView {
    BaseHeader header;
    ByteView bytes;
};

// Splits a UDP datagram into its Count + 1 messages (PROTOCOL.md §5.5 step 1, D9, C21): every
// header passes decode_udp_header, headers after the first carry Count 0, and the messages
// consume the datagram exactly. Any failure rejects the whole datagram. Allocates at most
// Count + 1 entries, each backed by at least 48 input bytes.
[[nodiscard]] Expected<std::vector<MessageView>, DecodeError> split_datagram(ByteView datagram);

}  // namespace cyphonic::wire
