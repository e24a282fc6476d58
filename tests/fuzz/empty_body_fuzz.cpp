// decode_empty_body: round trip of every accepted body.
#include <cstddef>
#include <cstdint>

#include "round_trip.hpp"

#include "cyphonic/wire/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    cyphonic::fuzz::check_round_trip(&cyphonic::wire::decode_empty_body,
                                     cyphonic::fuzz::input(data, size));
    return 0;
}
