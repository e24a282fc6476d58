// decode_stream_message: a message accepted from the AS stream re-encodes to as many bytes and
// decodes to the same header and body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "round_trip.hpp"

#include "cyphonic/wire/messages.hpp"

using namespace cyphonic;
using namespace cyphonic::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in = fuzz::input(data, size);
    const auto first = decode_stream_message(in);
    if (!first.has_value()) {
        return 0;
    }
    if (!allowed_on_stream(first->header.type) || !body_matches(first->header.type, first->body)) {
        std::abort();
    }
    const Bytes out = encode_stream_message(first->header, first->body);
    if (out.size() != in.size()) {
        std::abort();
    }
    const auto second = decode_stream_message(out);
    if (!second.has_value() || !(*second == *first)) {
        std::abort();
    }
    return 0;
}
