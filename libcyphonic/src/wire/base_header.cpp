#include "cyphonic/wire/base_header.hpp"

#include <cstring>

namespace cyphonic::wire {

namespace {

// Every check that needs only the 32 header bytes: Version, Type, Next Opt.
Expected<BaseHeader, DecodeError> decode_fields(ConstHeaderBytes raw) noexcept {
    BaseHeader h;
    h.transaction_id = load_be32<0>(raw);
    h.version = load_u8<4>(raw);
    h.flags = load_u8<5>(raw);
    const std::uint8_t type = load_u8<6>(raw);
    h.count = load_u8<7>(raw);
    h.sequence = load_be32<8>(raw);
    h.message_length = load_be16<12>(raw);
    h.next_opt = load_u8<14>(raw);
    std::memcpy(h.id.data(), raw.subspan<16, 16>().data(), h.id.size());

    if (h.version != kProtocolVersion) {
        return fail(DecodeError::UnknownVersion);
    }
    if (!is_known_message_type(type)) {
        return fail(DecodeError::UnknownType);
    }
    h.type = static_cast<MessageType>(type);
    if (h.next_opt != 0) {
        return fail(DecodeError::UnknownNextOpt);
    }
    return h;
}

}  // namespace

Expected<BaseHeader, DecodeError> decode_base_header(ByteView input) noexcept {
    if (input.size() < kBaseHeaderSize) {
        return fail(DecodeError::Truncated);
    }
    auto h = decode_fields(input.first<kBaseHeaderSize>());
    if (!h.has_value()) {
        return h;
    }
    if (h->message_length < kBaseHeaderSize || h->message_length > input.size()) {
        return fail(DecodeError::LengthMismatch);  // the field is a claim, the size a fact
    }
    return h;
}

Expected<BaseHeader, DecodeError> decode_udp_header(ByteView input) noexcept {
    auto h = decode_base_header(input);
    if (!h.has_value()) {
        return h;
    }
    if (!allowed_on_udp(h->type)) {
        return fail(DecodeError::WrongTransport);
    }
    if (h->message_length < kMinUdpMessageLength) {
        return fail(DecodeError::LengthMismatch);
    }
    return h;
}

Expected<BaseHeader, DecodeError> decode_stream_header(ConstHeaderBytes header) noexcept {
    auto h = decode_fields(header);
    if (!h.has_value()) {
        return h;
    }
    if (!allowed_on_stream(h->type)) {
        return fail(DecodeError::WrongTransport);
    }
    if (h->count != 0) {
        return fail(DecodeError::BadCount);
    }
    if (h->message_length < kMinStreamMessageLength) {
        return fail(DecodeError::LengthMismatch);
    }
    return h;
}

void encode(const BaseHeader& header, HeaderBytes out) noexcept {
    store_be32<0>(out, header.transaction_id);
    store_u8<4>(out, header.version);
    store_u8<5>(out, header.flags);
    store_u8<6>(out, static_cast<std::uint8_t>(header.type));
    store_u8<7>(out, header.count);
    store_be32<8>(out, header.sequence);
    store_be16<12>(out, header.message_length);
    store_u8<14>(out, header.next_opt);
    store_u8<15>(out, 0);
    std::memcpy(out.subspan<16, 16>().data(), header.id.data(), header.id.size());
}

Expected<std::vector<MessageView>, DecodeError> split_datagram(ByteView datagram) {
    auto first = decode_udp_header(datagram);
    if (!first.has_value()) {
        return fail(first.error());
    }
    const std::size_t total = std::size_t{first->count} + 1;
    // Each message needs at least 48 bytes: a Count the datagram cannot hold is rejected
    // before anything is reserved.
    if (total > datagram.size() / kMinUdpMessageLength) {
        return fail(DecodeError::BadCount);
    }
    std::vector<MessageView> out;
    out.reserve(total);
    out.push_back({*first, datagram.first(first->message_length)});
    std::size_t offset = first->message_length;
    for (std::size_t i = 1; i < total; ++i) {
        const ByteView rest = datagram.subspan(offset);
        if (rest.empty()) {
            return fail(DecodeError::BadCount);
        }
        auto next = decode_udp_header(rest);
        if (!next.has_value()) {
            return fail(next.error());
        }
        if (next->count != 0) {
            return fail(DecodeError::BadCount);
        }
        out.push_back({*next, rest.first(next->message_length)});
        offset += next->message_length;
    }
    if (offset != datagram.size()) {
        return fail(DecodeError::TrailingBytes);
    }
    return out;
}

}  // namespace cyphonic::wire
