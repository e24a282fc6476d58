// inner_addresses / inner_destination: any bytes, no crash, and agreement between the two.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "inner_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const cyphonic::ByteView packet(reinterpret_cast<const std::byte*>(data), size);  // NOLINT
    const auto full = cyphonic::noded::inner_addresses(packet);
    const auto destination = cyphonic::noded::inner_destination(packet);
    if (full && (!destination || !(*destination == full->destination))) {
        std::abort();
    }
    return 0;
}
