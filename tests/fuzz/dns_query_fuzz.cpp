// dns::parse_query and the answers built from what it accepts: no read outside the input
// (ASan), a parsed query re-encodes to one that parses to the same value, and every answer
// built for it is recognised as the answer to it. The header-only FORMERR path and the
// upstream-answer check run on every input too.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "cyphonic/dns/message.hpp"

namespace {

using namespace cyphonic;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in = std::as_bytes(std::span(data, size));

    const auto header = dns::parse_header(in);
    const auto formerr = dns::answer_header_only(in, dns::Rcode::FormErr);
    require(formerr.has_value() == (header.has_value() && !header->is_response()));
    if (formerr.has_value()) {
        require(formerr->size() == dns::kHeaderSize && dns::peek_id(*formerr) == header->id);
    }

    const auto query = dns::parse_query(in);
    if (!query.has_value()) {
        return 0;
    }
    require(query->qname_wire.size() <= dns::kMaxNameLength);
    const Bytes encoded = dns::encode_query(*query);
    const auto again = dns::parse_query(encoded);
    require(again.has_value() && *again == *query);  // decode(encode(x)) gives back x

    static const std::array<IpAddress, 2> kAddrs = {*IpAddress::parse("10.0.0.1"),
                                                    *IpAddress::parse("fd00::1")};
    require(dns::answers_query(dns::answer_addresses(*query, kAddrs, 60), *query));
    require(dns::answers_query(dns::answer_nodata(*query), *query));
    require(dns::answers_query(dns::answer_rcode(*query, dns::Rcode::NxDomain), *query));
    require(!dns::answers_query(in, *query));  // a query never answers itself

    static const Bytes kZone = *dns::encode_name("example.net");
    (void)dns::match_zone(query->qname_wire, kZone);
    return 0;
}
