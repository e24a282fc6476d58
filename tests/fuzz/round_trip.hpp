#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/wire/messages.hpp"

// Shared by the body decoder targets (STYLE.md §9): whatever a decoder accepts must encode to
// exactly as many bytes as it was decoded from (decoders demand exactness) and decode back to
// the same value.
namespace cyphonic::fuzz {

[[nodiscard]] inline ByteView input(const std::uint8_t* data, std::size_t size) noexcept {
    return std::as_bytes(std::span(data, size));
}

template <class Decode>
void check_round_trip(Decode decode, ByteView in) {
    const auto first = decode(in);
    if (!first.has_value()) {
        return;
    }
    std::vector<std::byte> out(wire::encoded_size(*first));
    if (wire::encode(*first, out) != out.size() || out.size() != in.size()) {
        std::abort();  // encode must write encoded_size bytes, the size decoded from
    }
    const auto second = decode(ByteView(out));
    if (!second.has_value() || !(*second == *first)) {
        std::abort();  // decode(encode(x)) must give back x
    }
}

}  // namespace cyphonic::fuzz
