// decode_base_header, decode_udp_header and decode_stream_header (on the first 32 bytes):
// encode(decode(x)) gives back x except the reserved byte, and decodes to the same header;
// the UDP rules are exactly the generic rules plus §5.5's transport and length checks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "round_trip.hpp"

#include "cyphonic/wire/base_header.hpp"

namespace {

using namespace cyphonic;
using namespace cyphonic::wire;

constexpr std::size_t kReservedByte = 15;

// Re-encodes `h` over a copy of `in` and checks the bytes and the decoded value.
template <class Decode>
void check_header(const BaseHeader& h, ByteView in, Decode decode) {
    std::vector<std::byte> copy(in.begin(), in.end());
    encode(h, HeaderBytes(copy.data(), kBaseHeaderSize));
    for (std::size_t i = 0; i < kBaseHeaderSize; ++i) {
        if (i != kReservedByte && copy[i] != in[i]) {
            std::abort();
        }
    }
    const auto again = decode(ByteView(copy));
    if (!again.has_value() || !(*again == h)) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in = fuzz::input(data, size);

    const auto generic = decode_base_header(in);
    if (generic.has_value()) {
        check_header(*generic, in, [](ByteView b) { return decode_base_header(b); });
    }

    const auto udp = decode_udp_header(in);
    const bool udp_expected = generic.has_value() && allowed_on_udp(generic->type) &&
                              generic->message_length >= kMinUdpMessageLength;
    if (udp.has_value() != udp_expected || (udp.has_value() && !(*udp == *generic))) {
        std::abort();
    }

    if (in.size() >= kBaseHeaderSize) {
        const auto stream = decode_stream_header(in.first<kBaseHeaderSize>());
        if (stream.has_value()) {
            if (!allowed_on_stream(stream->type) || stream->count != 0) {
                std::abort();
            }
            check_header(*stream, in.first<kBaseHeaderSize>(), [](ByteView b) {
                return decode_stream_header(b.first<kBaseHeaderSize>());
            });
        }
    }
    return 0;
}
