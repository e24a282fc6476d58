// Answer builders (message.hpp). Layout of every answer (RFC 1035 §4.1):
//  header (12) | question: QNAME as asked, QTYPE, QCLASS | answers | OPT (RFC 6891) if asked
#include <vector>

#include "cyphonic/dns/message.hpp"

namespace cyphonic::dns {

namespace {

// Owner name of every answer record: a pointer to the question's name, which always starts
// right after the header.
constexpr std::uint16_t kPointerToQuestion = 0xC000U | kHeaderSize;
constexpr std::size_t kRecordFixedSize = 12;  // owner pointer, type, class, TTL, RDLENGTH
constexpr std::size_t kOptRecordSize = 11;

std::uint16_t answer_flags(std::uint16_t query_flags, Rcode rcode) {
    // Echo opcode, RD and CD (RFC 1035 §4.1.1, RFC 4035 §3.1.6); we recurse, so RA.
    auto flags = static_cast<std::uint16_t>(
        flag::kQr | flag::kRa | (query_flags & (flag::kOpcodeMask | flag::kRd | flag::kCd)) |
        static_cast<std::uint16_t>(rcode));
    // Overlay names are ours: a positive answer or an NXDOMAIN comes from the authority.
    if (rcode == Rcode::NoError || rcode == Rcode::NxDomain) {
        flags = static_cast<std::uint16_t>(flags | flag::kAa);
    }
    return flags;
}

bool wanted(std::uint16_t qtype, const IpAddress& a) {
    return qtype == rrtype::kAny || (qtype == rrtype::kA && a.is_v4()) ||
           (qtype == rrtype::kAaaa && a.is_v6());
}

Bytes build(const Query& query, Rcode rcode, std::span<const IpAddress> addrs, std::uint32_t ttl) {
    std::size_t size = kHeaderSize + query.qname_wire.size() + 4;
    std::uint16_t ancount = 0;
    for (const auto& a : addrs) {
        if (wanted(query.qtype, a)) {
            size += kRecordFixedSize + (a.is_v4() ? a.v4().bytes.size() : a.v6().bytes.size());
            ++ancount;
        }
    }
    const bool edns = query.edns_udp_size.has_value();
    if (edns) {
        size += kOptRecordSize;
    }

    Bytes out(size);
    ByteWriter w(out);
    w.be16(query.id);
    w.be16(answer_flags(query.flags, rcode));
    w.be16(1);  // QDCOUNT: the question is echoed
    w.be16(ancount);
    w.be16(0);  // NSCOUNT
    w.be16(static_cast<std::uint16_t>(edns ? 1U : 0U));
    w.bytes(query.qname_wire);
    w.be16(query.qtype);
    w.be16(query.qclass);
    for (const auto& a : addrs) {
        if (!wanted(query.qtype, a)) {
            continue;
        }
        w.be16(kPointerToQuestion);
        w.be16(a.is_v4() ? rrtype::kA : rrtype::kAaaa);
        w.be16(kClassIn);
        w.be32(ttl);
        if (a.is_v4()) {
            w.be16(static_cast<std::uint16_t>(a.v4().bytes.size()));
            w.bytes(a.v4().bytes);
        } else {
            w.be16(static_cast<std::uint16_t>(a.v6().bytes.size()));
            w.bytes(a.v6().bytes);
        }
    }
    if (edns) {
        w.u8(0);  // root owner
        w.be16(rrtype::kOpt);
        w.be16(kOurUdpPayload);
        w.be32(0);  // extended RCODE 0, version 0, DO clear: we do not sign
        w.be16(0);  // no options
    }
    return out;
}

}  // namespace

Bytes answer_addresses(const Query& query, std::span<const IpAddress> addrs, std::uint32_t ttl) {
    return build(query, Rcode::NoError, addrs, ttl);
}

Bytes answer_nodata(const Query& query) {
    return build(query, Rcode::NoError, {}, 0);
}

Bytes answer_rcode(const Query& query, Rcode rcode) {
    return build(query, rcode, {}, 0);
}

Expected<Bytes, DnsError> answer_header_only(ByteView packet, Rcode rcode) {
    const auto header = parse_header(packet);
    if (!header.has_value()) {
        return fail(header.error());
    }
    if (header->is_response()) {
        return fail(DnsError::NotAQuery);
    }
    Bytes out(kHeaderSize);
    ByteWriter w(out);
    w.be16(header->id);
    // Not authoritative: we could not even tell which name was asked.
    w.be16(static_cast<std::uint16_t>(answer_flags(header->flags, rcode) & ~flag::kAa));
    w.zeros(8);  // all four counts
    return out;
}

}  // namespace cyphonic::dns
