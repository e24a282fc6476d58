#include "cyphonic/wire/base_header.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "support/golden.hpp"
#include "support/sample_messages.hpp"  // PrintTo(DecodeError)

namespace cyphonic::wire {
namespace {

BaseHeader sample_header(MessageType type = MessageType::KeepAlive) {
    BaseHeader h;
    h.transaction_id = 0xa0b0c0d0;
    h.flags = flag::kSuccess | flag::kResponse | flag::kSenderSide;
    h.type = type;
    h.sequence = 0x01020304;
    h.message_length = static_cast<std::uint16_t>(kMinUdpMessageLength);
    for (std::size_t i = 0; i < h.id.size(); ++i) {
        h.id[i] = static_cast<std::byte>(0x30 + i);
    }
    return h;
}

// A UDP message of `total` bytes: header, then zero bytes standing in for body and trailer
// (the split does not look inside).
Bytes udp_message(MessageType type, std::size_t total, std::uint8_t count = 0) {
    BaseHeader h = sample_header(type);
    h.count = count;
    h.message_length = static_cast<std::uint16_t>(total);
    Bytes out(total);
    encode(h, std::span(out).first<kBaseHeaderSize>());
    return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

Bytes encoded(const BaseHeader& h) {
    Bytes out(kBaseHeaderSize);
    encode(h, std::span(out).first<kBaseHeaderSize>());
    return out;
}

ConstHeaderBytes first_header(const Bytes& b) {
    return std::span(b).first<kBaseHeaderSize>();
}

TEST(BaseHeaderEncode, MatchesPROTOCOLKeepAliveVector) {
    // PROTOCOL.md §11: Keep Alive, Transaction ID 0x01020304, Seq 1, ID 16 × 11, length 48.
    BaseHeader h;
    h.transaction_id = 0x01020304;
    h.type = MessageType::KeepAlive;
    h.sequence = 1;
    h.message_length = 48;
    h.id.fill(std::byte{0x11});
    EXPECT_EQ(encoded(h), golden::hex("01020304 01 00 06 00 00000001 0030 00 00 "
                                      "11111111111111111111111111111111"));
}

TEST(BaseHeaderDecode, RoundTripsEveryField) {
    const BaseHeader h = sample_header();
    const Bytes bytes = encoded(h);
    Bytes input = bytes;
    input.resize(h.message_length);
    const auto decoded = decode_base_header(input);
    ASSERT_TRUE(decoded.has_value()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, h);
    EXPECT_EQ(encoded(*decoded), bytes);
}

TEST(BaseHeaderDecode, RejectsEveryTruncation) {
    const Bytes bytes = encoded(sample_header());
    for (std::size_t n = 0; n < kBaseHeaderSize; ++n) {
        SCOPED_TRACE(n);
        const auto result = decode_base_header(std::span(bytes).first(n));
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::Truncated);
        const auto udp = decode_udp_header(std::span(bytes).first(n));
        ASSERT_FALSE(udp.has_value());
        EXPECT_EQ(udp.error(), DecodeError::Truncated);
    }
}

TEST(BaseHeaderDecode, RejectsEveryVersionButOne) {
    BaseHeader h = sample_header();
    h.message_length = kBaseHeaderSize;
    for (unsigned v = 0; v <= 0xFF; ++v) {
        SCOPED_TRACE(v);
        h.version = static_cast<std::uint8_t>(v);
        const Bytes bytes = encoded(h);
        const auto result = decode_base_header(bytes);
        const auto stream = decode_stream_header(first_header(bytes));
        if (v == kProtocolVersion) {
            EXPECT_TRUE(result.has_value());
            continue;
        }
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::UnknownVersion);
        ASSERT_FALSE(stream.has_value());
        EXPECT_EQ(stream.error(), DecodeError::UnknownVersion);
    }
}

TEST(BaseHeaderDecode, RejectsUnknownTypes) {
    Bytes bytes = encoded(sample_header());
    bytes.resize(kMinUdpMessageLength);
    for (unsigned t = 0; t <= 0xFF; ++t) {
        SCOPED_TRACE(t);
        bytes[6] = static_cast<std::byte>(t);
        const auto result = decode_base_header(bytes);
        if (t >= 0x01 && t <= 0x12) {
            ASSERT_TRUE(result.has_value());
            EXPECT_EQ(static_cast<unsigned>(result->type), t);
            continue;
        }
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::UnknownType);
        const auto stream = decode_stream_header(first_header(bytes));
        ASSERT_FALSE(stream.has_value());
        EXPECT_EQ(stream.error(), DecodeError::UnknownType);
    }
}

TEST(BaseHeaderDecode, RejectsEveryNonZeroNextOpt) {
    Bytes bytes = encoded(sample_header());
    bytes.resize(kMinUdpMessageLength);
    for (unsigned v = 1; v <= 0xFF; ++v) {
        SCOPED_TRACE(v);
        bytes[14] = static_cast<std::byte>(v);
        const auto result = decode_base_header(bytes);
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::UnknownNextOpt);
        const auto stream = decode_stream_header(first_header(bytes));
        ASSERT_FALSE(stream.has_value());
        EXPECT_EQ(stream.error(), DecodeError::UnknownNextOpt);
    }
}

TEST(BaseHeaderDecode, RejectsMessageLengthBelowHeaderSize) {
    BaseHeader h = sample_header();
    for (std::uint16_t len = 0; len < kBaseHeaderSize; ++len) {
        SCOPED_TRACE(len);
        h.message_length = len;
        Bytes bytes = encoded(h);
        bytes.resize(kMinUdpMessageLength);
        const auto result = decode_base_header(bytes);
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::LengthMismatch);
    }
}

TEST(BaseHeaderDecode, RejectsMessageLengthBeyondInput) {
    BaseHeader h = sample_header();
    for (const std::size_t input : {std::size_t{32}, std::size_t{48}, std::size_t{100}}) {
        SCOPED_TRACE(input);
        h.message_length = static_cast<std::uint16_t>(input + 1);
        Bytes bytes = encoded(h);
        bytes.resize(input);
        const auto result = decode_base_header(bytes);
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::LengthMismatch);
        h.message_length = static_cast<std::uint16_t>(input);
        Bytes exact = encoded(h);
        exact.resize(input);
        EXPECT_TRUE(decode_base_header(exact).has_value());
    }
}

TEST(BaseHeaderDecode, AcceptsMessageLengthShorterThanInput) {
    // decode_base_header frames the first message; what follows is the split's business.
    BaseHeader h = sample_header();
    h.message_length = 40;
    Bytes bytes = encoded(h);
    bytes.resize(200);
    EXPECT_TRUE(decode_base_header(bytes).has_value());
}

TEST(BaseHeaderDecode, IgnoresReservedByteAndReservedFlagBits) {
    BaseHeader h = sample_header();
    h.message_length = kBaseHeaderSize;
    Bytes bytes = encoded(h);
    bytes[15] = std::byte{0xFF};
    bytes[5] = std::byte{0xE0} | bytes[5];
    const auto result = decode_base_header(bytes);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->flags & flag::kDefined, h.flags);
    EXPECT_EQ(result->type, h.type);
    EXPECT_EQ(result->id, h.id);
    const auto stream = decode_stream_header(first_header(bytes));
    EXPECT_FALSE(stream.has_value());  // Keep Alive: wrong transport, but nothing else
    EXPECT_EQ(stream.error(), DecodeError::WrongTransport);
}

TEST(BaseHeaderEncode, WritesReservedByteAsZero) {
    Bytes bytes(kBaseHeaderSize, std::byte{0xEE});
    encode(sample_header(), std::span(bytes).first<kBaseHeaderSize>());
    EXPECT_EQ(bytes[15], std::byte{0});
}

TEST(UdpHeaderDecode, RejectsLoginTypesAsWrongTransport) {
    for (const auto type : {MessageType::LoginRequest, MessageType::LoginResponse}) {
        SCOPED_TRACE(to_string(type));
        const Bytes bytes = udp_message(type, kMinUdpMessageLength);
        EXPECT_TRUE(decode_base_header(bytes).has_value());
        const auto result = decode_udp_header(bytes);
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::WrongTransport);
    }
}

TEST(UdpHeaderDecode, AcceptsEveryOtherType) {
    for (std::uint8_t t = kFirstMessageType; t <= kLastMessageType; ++t) {
        const auto type = static_cast<MessageType>(t);
        if (type == MessageType::LoginRequest || type == MessageType::LoginResponse) {
            continue;
        }
        SCOPED_TRACE(to_string(type));
        EXPECT_TRUE(decode_udp_header(udp_message(type, kMinUdpMessageLength)).has_value());
    }
}

TEST(UdpHeaderDecode, RejectsMessageLengthBelowHeaderPlusTrailer) {
    for (std::size_t len = kBaseHeaderSize; len < kMinUdpMessageLength; ++len) {
        SCOPED_TRACE(len);
        Bytes bytes = udp_message(MessageType::KeepAlive, len);
        bytes.resize(kMinUdpMessageLength);
        EXPECT_TRUE(decode_base_header(bytes).has_value());
        const auto result = decode_udp_header(bytes);
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::LengthMismatch);
    }
}

TEST(StreamHeaderDecode, AcceptsOnlyLoginAndErrorTypes) {
    BaseHeader h = sample_header();
    h.message_length = 1000;  // the body has not been read yet: not compared with anything
    for (std::uint8_t t = kFirstMessageType; t <= kLastMessageType; ++t) {
        h.type = static_cast<MessageType>(t);
        SCOPED_TRACE(to_string(h.type));
        const auto result = decode_stream_header(first_header(encoded(h)));
        if (h.type == MessageType::LoginRequest || h.type == MessageType::LoginResponse ||
            h.type == MessageType::Error) {
            ASSERT_TRUE(result.has_value());
            EXPECT_EQ(*result, h);
        } else {
            ASSERT_FALSE(result.has_value());
            EXPECT_EQ(result.error(), DecodeError::WrongTransport);
        }
    }
}

TEST(StreamHeaderDecode, RejectsNonZeroCount) {
    BaseHeader h = sample_header(MessageType::LoginRequest);
    for (unsigned c = 1; c <= 0xFF; ++c) {
        SCOPED_TRACE(c);
        h.count = static_cast<std::uint8_t>(c);
        const auto result = decode_stream_header(first_header(encoded(h)));
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::BadCount);
    }
}

TEST(StreamHeaderDecode, AcceptsBareHeaderLengthAndRejectsShorter) {
    BaseHeader h = sample_header(MessageType::LoginResponse);
    h.message_length = kMinStreamMessageLength;
    EXPECT_TRUE(decode_stream_header(first_header(encoded(h))).has_value());
    for (std::uint16_t len = 0; len < kMinStreamMessageLength; ++len) {
        SCOPED_TRACE(len);
        h.message_length = len;
        const auto result = decode_stream_header(first_header(encoded(h)));
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::LengthMismatch);
    }
}

TEST(SplitDatagram, ReturnsASingleMessage) {
    const Bytes datagram = udp_message(MessageType::Capsule, 100);
    const auto result = split_datagram(datagram);
    ASSERT_TRUE(result.has_value()) << to_string(result.error());
    ASSERT_EQ(result->size(), 1U);
    EXPECT_EQ((*result)[0].bytes.data(), datagram.data());
    EXPECT_EQ((*result)[0].bytes.size(), datagram.size());
    EXPECT_EQ((*result)[0].header.type, MessageType::Capsule);
}

TEST(SplitDatagram, SplitsCountPlusOneMessages) {
    for (const std::uint8_t count : {std::uint8_t{1}, std::uint8_t{2}}) {
        SCOPED_TRACE(count);
        const std::vector<std::size_t> sizes{48, 60, 75};
        const std::vector<MessageType> types{MessageType::KeepAlive, MessageType::Ack,
                                             MessageType::Error};
        Bytes datagram;
        for (std::size_t i = 0; i <= count; ++i) {
            const Bytes m = udp_message(types[i], sizes[i], i == 0 ? count : 0);
            datagram.insert(datagram.end(), m.begin(), m.end());
        }
        const auto result = split_datagram(datagram);
        ASSERT_TRUE(result.has_value()) << to_string(result.error());
        ASSERT_EQ(result->size(), std::size_t{count} + 1);
        std::size_t offset = 0;
        for (std::size_t i = 0; i <= count; ++i) {
            EXPECT_EQ((*result)[i].header.type, types[i]);
            EXPECT_EQ((*result)[i].bytes.data(), datagram.data() + offset);
            EXPECT_EQ((*result)[i].bytes.size(), sizes[i]);
            offset += sizes[i];
        }
    }
}

TEST(SplitDatagram, RejectsCountOnAFollowingHeader) {
    const Bytes datagram =
        concat({udp_message(MessageType::KeepAlive, 48, 2), udp_message(MessageType::KeepAlive, 48),
                udp_message(MessageType::KeepAlive, 48, 1)});
    const auto result = split_datagram(datagram);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error(), DecodeError::BadCount);
}

TEST(SplitDatagram, RejectsCountTheDatagramCannotHold) {
    // 255 further messages would need 256 × 48 bytes.
    const Bytes datagram = concat(
        {udp_message(MessageType::KeepAlive, 48, 255), udp_message(MessageType::KeepAlive, 48)});
    const auto result = split_datagram(datagram);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error(), DecodeError::BadCount);
}

TEST(SplitDatagram, RejectsCountLargerThanTheMessagesPresent) {
    // Room for three minimal messages, but the second one takes all of it.
    const Bytes datagram =
        concat({udp_message(MessageType::KeepAlive, 48, 2), udp_message(MessageType::Capsule, 96)});
    const auto result = split_datagram(datagram);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error(), DecodeError::BadCount);
}

TEST(SplitDatagram, RejectsTrailingBytes) {
    for (const std::size_t extra : {std::size_t{1}, std::size_t{47}, std::size_t{48}}) {
        SCOPED_TRACE(extra);
        Bytes datagram = concat(
            {udp_message(MessageType::KeepAlive, 48, 1), udp_message(MessageType::KeepAlive, 48)});
        datagram.resize(datagram.size() + extra);
        const auto result = split_datagram(datagram);
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), DecodeError::TrailingBytes);
    }
}

TEST(SplitDatagram, RejectsEveryTruncation) {
    const Bytes full =
        concat({udp_message(MessageType::Capsule, 80, 1), udp_message(MessageType::Capsule, 100)});
    for (std::size_t n = 0; n < full.size(); ++n) {
        SCOPED_TRACE(n);
        DecodeError expected = DecodeError::LengthMismatch;  // inside a message's body
        if (n < kBaseHeaderSize) {
            expected = DecodeError::Truncated;  // inside the first header
        } else if (n >= 80 && n < 2 * kMinUdpMessageLength) {
            expected = DecodeError::BadCount;  // no room for Count + 1 messages
        } else if (n >= 80 && n < 80 + kBaseHeaderSize) {
            expected = DecodeError::Truncated;  // inside the second header
        }
        const auto result = split_datagram(std::span(full).first(n));
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error(), expected);
    }
    EXPECT_TRUE(split_datagram(full).has_value());
}

TEST(SplitDatagram, RejectsABadSecondHeader) {
    Bytes datagram = concat(
        {udp_message(MessageType::KeepAlive, 48, 1), udp_message(MessageType::KeepAlive, 48)});
    Bytes bad_version = datagram;
    bad_version[48 + 4] = std::byte{2};
    EXPECT_EQ(split_datagram(bad_version).error(), DecodeError::UnknownVersion);
    Bytes login = datagram;
    login[48 + 6] = static_cast<std::byte>(MessageType::LoginRequest);
    EXPECT_EQ(split_datagram(login).error(), DecodeError::WrongTransport);
}

TEST(SplitDatagram, IgnoresReservedByteAndReservedFlagBits) {
    Bytes datagram = concat(
        {udp_message(MessageType::KeepAlive, 48, 1), udp_message(MessageType::KeepAlive, 48)});
    for (const std::size_t base : {std::size_t{0}, std::size_t{48}}) {
        datagram[base + 15] = std::byte{0xA5};
        datagram[base + 5] |= std::byte{0xE0};
    }
    const auto result = split_datagram(datagram);
    ASSERT_TRUE(result.has_value()) << to_string(result.error());
    EXPECT_EQ(result->size(), 2U);
}

TEST(SplitDatagram, RejectsAFirstHeaderFailingUdpRules) {
    EXPECT_EQ(split_datagram(Bytes(31)).error(), DecodeError::Truncated);
    EXPECT_EQ(split_datagram(udp_message(MessageType::LoginResponse, 48)).error(),
              DecodeError::WrongTransport);
    Bytes short_length = udp_message(MessageType::KeepAlive, 40);
    short_length.resize(48);
    EXPECT_EQ(split_datagram(short_length).error(), DecodeError::LengthMismatch);
}

}  // namespace
}  // namespace cyphonic::wire
