// split_datagram: the messages tile the datagram exactly, each view matches its header, only
// the first header carries Count, and a datagram rebuilt from re-encoded headers splits the
// same way.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "round_trip.hpp"

#include "cyphonic/wire/base_header.hpp"

using namespace cyphonic;
using namespace cyphonic::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in = fuzz::input(data, size);
    const auto parts = split_datagram(in);
    if (!parts.has_value()) {
        return 0;
    }
    if (parts->empty() || std::size_t{parts->front().header.count} + 1 != parts->size()) {
        std::abort();
    }
    std::vector<std::byte> rebuilt;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < parts->size(); ++i) {
        const MessageView& m = (*parts)[i];
        if (m.bytes.data() != in.data() + offset || m.bytes.size() != m.header.message_length ||
            m.bytes.size() < kMinUdpMessageLength || (i > 0 && m.header.count != 0) ||
            !allowed_on_udp(m.header.type)) {
            std::abort();
        }
        offset += m.bytes.size();
        const std::size_t start = rebuilt.size();
        rebuilt.insert(rebuilt.end(), m.bytes.begin(), m.bytes.end());
        encode(m.header, std::span(rebuilt).subspan(start).first<kBaseHeaderSize>());
    }
    if (offset != in.size()) {
        std::abort();
    }
    const auto again = split_datagram(ByteView(rebuilt));
    if (!again.has_value() || again->size() != parts->size()) {
        std::abort();
    }
    for (std::size_t i = 0; i < parts->size(); ++i) {
        if (!((*again)[i].header == (*parts)[i].header)) {
            std::abort();
        }
    }
    return 0;
}
