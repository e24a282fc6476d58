#include "cyphonic/core/bytes.hpp"

#include <cassert>
#include <cstring>

namespace cyphonic {

std::optional<std::uint8_t> ByteReader::u8() noexcept {
    const auto v = take_fixed<1>();
    if (!v) {
        return std::nullopt;
    }
    return load_u8<0>(*v);
}

std::optional<std::uint16_t> ByteReader::be16() noexcept {
    const auto v = take_fixed<2>();
    if (!v) {
        return std::nullopt;
    }
    return load_be16<0>(*v);
}

std::optional<std::uint32_t> ByteReader::be32() noexcept {
    const auto v = take_fixed<4>();
    if (!v) {
        return std::nullopt;
    }
    return load_be32<0>(*v);
}

bool ByteWriter::reserve(std::size_t n) noexcept {
    if (failed_ || n > out_.size() - pos_) {
        assert(false && "ByteWriter: buffer smaller than encoded_size()");
        failed_ = true;
        return false;
    }
    return true;
}

void ByteWriter::u8(std::uint8_t v) noexcept {
    if (reserve(1)) {
        out_[pos_++] = static_cast<std::byte>(v);
    }
}

void ByteWriter::be16(std::uint16_t v) noexcept {
    if (reserve(2)) {
        store_be16<0>(out_.subspan(pos_).first<2>(), v);
        pos_ += 2;
    }
}

void ByteWriter::be32(std::uint32_t v) noexcept {
    if (reserve(4)) {
        store_be32<0>(out_.subspan(pos_).first<4>(), v);
        pos_ += 4;
    }
}

void ByteWriter::bytes(ByteView v) noexcept {
    if (!v.empty() && reserve(v.size())) {
        std::memcpy(out_.data() + pos_, v.data(), v.size());
        pos_ += v.size();
    }
}

void ByteWriter::zeros(std::size_t n) noexcept {
    if (n != 0 && reserve(n)) {
        std::memset(out_.data() + pos_, 0, n);
        pos_ += n;
    }
}

std::string to_string(ByteView bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string to_hex(ByteView bytes) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const std::byte b : bytes) {
        const auto v = static_cast<unsigned>(b);
        out.push_back(kDigits[v >> 4U]);
        out.push_back(kDigits[v & 0x0FU]);
    }
    return out;
}

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}
}  // namespace

std::optional<Bytes> from_hex(std::string_view hex) {
    Bytes out;
    out.reserve(hex.size() / 2);
    int high = -1;
    for (const char c : hex) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            continue;
        }
        const int v = hex_value(c);
        if (v < 0) {
            return std::nullopt;
        }
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::byte>((high << 4) | v));
            high = -1;
        }
    }
    if (high >= 0) {
        return std::nullopt;
    }
    return out;
}

}  // namespace cyphonic
