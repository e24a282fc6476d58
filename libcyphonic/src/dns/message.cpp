#include "cyphonic/dns/message.hpp"

#include <algorithm>
#include <array>

#include "name.hpp"

#include "cyphonic/core/text.hpp"

namespace cyphonic::dns {

namespace {

// Fixed part of a resource record after its name: type, class, TTL, RDLENGTH.
constexpr std::size_t kRecordFixedSize = 10;
constexpr std::size_t kQuestionFixedSize = 4;  // QTYPE, QCLASS
constexpr std::size_t kOptRecordSize = 1 + kRecordFixedSize;

}  // namespace

std::string_view to_string(Rcode r) noexcept {
    switch (r) {
        case Rcode::NoError:
            return "noerror";
        case Rcode::FormErr:
            return "formerr";
        case Rcode::ServFail:
            return "servfail";
        case Rcode::NxDomain:
            return "nxdomain";
        case Rcode::NotImp:
            return "notimp";
        case Rcode::Refused:
            return "refused";
    }
    return "unknown";
}

std::string_view to_string(DnsError e) noexcept {
    // snake_case labels ("pointer_loop"), made once from the enumerator names.
    static const auto kNames = [] {
        std::array<std::string, kDnsErrorCount> names;
        std::size_t i = 0;
#define CYPHONIC_NAME(name) names[i++] = snake_case(#name);
        CYPHONIC_DNS_ERRORS(CYPHONIC_NAME)
#undef CYPHONIC_NAME
        return names;
    }();
    const auto i = static_cast<std::size_t>(e);
    return i < kNames.size() ? std::string_view(kNames[i]) : std::string_view("unknown");
}

std::size_t Query::max_udp_answer() const noexcept {
    return std::max<std::size_t>(kMinUdpPayload, edns_udp_size.value_or(0));
}

Expected<Header, DnsError> parse_header(ByteView packet) noexcept {
    if (packet.size() < kHeaderSize) {
        return fail(DnsError::Truncated);
    }
    const auto raw = packet.first<kHeaderSize>();
    Header h;
    h.id = load_be16<0>(raw);
    h.flags = load_be16<2>(raw);
    h.qdcount = load_be16<4>(raw);
    h.ancount = load_be16<6>(raw);
    h.nscount = load_be16<8>(raw);
    h.arcount = load_be16<10>(raw);
    return h;
}

Expected<std::uint16_t, DnsError> peek_id(ByteView packet) noexcept {
    const auto header = parse_header(packet);
    if (!header.has_value()) {
        return fail(header.error());
    }
    return header->id;
}

Expected<Query, DnsError> parse_query(ByteView packet) {
    const auto header = parse_header(packet);
    if (!header.has_value()) {
        return fail(header.error());
    }
    if (header->is_response()) {
        return fail(DnsError::NotAQuery);
    }
    if (header->opcode() != 0) {
        return fail(DnsError::BadOpcode);
    }
    if (header->qdcount != 1) {
        return fail(DnsError::BadQuestionCount);  // RFC 9619: a query has exactly one
    }
    if (header->ancount != 0) {
        return fail(DnsError::BadAnswerCount);
    }
    if (header->nscount != 0) {
        return fail(DnsError::BadAuthorityCount);
    }

    Query q;
    q.id = header->id;
    q.flags = header->flags;
    std::size_t pos = kHeaderSize;
    auto name = detail::read_name(packet, pos);
    if (!name.has_value()) {
        return fail(name.error());
    }
    q.name = std::move(name->text);
    q.qname_wire = std::move(name->wire);
    ByteReader question(packet.subspan(pos));
    const auto qtype = question.be16();
    const auto qclass = question.be16();
    if (!qtype || !qclass) {
        return fail(DnsError::Truncated);
    }
    q.qtype = *qtype;
    q.qclass = *qclass;
    pos += kQuestionFixedSize;

    // Additional records: walked one at a time, each checked against the bytes left, so a
    // large ARCOUNT costs nothing but a Truncated.
    for (std::uint16_t i = 0; i < header->arcount; ++i) {
        const auto owner_length = detail::skip_name(packet, pos);
        if (!owner_length.has_value()) {
            return fail(owner_length.error());
        }
        ByteReader record(packet.subspan(pos));
        const auto type = record.be16();
        const auto rclass = record.be16();
        const auto ttl = record.be32();
        const auto rdlength = record.be16();
        if (!type || !rclass || !ttl || !rdlength) {
            return fail(DnsError::Truncated);
        }
        if (!record.take(*rdlength)) {
            return fail(DnsError::Truncated);
        }
        pos += kRecordFixedSize + *rdlength;
        if (*type == rrtype::kOpt) {
            // RFC 6891 §6.1.1: one OPT, owned by the root; otherwise FORMERR.
            if (*owner_length != 1 || q.edns_udp_size.has_value()) {
                return fail(DnsError::BadOpt);
            }
            q.edns_udp_size = *rclass;
        }
    }
    if (pos != packet.size()) {
        return fail(DnsError::TrailingBytes);
    }
    return q;
}

Bytes encode_query(const Query& query) {
    const bool edns = query.edns_udp_size.has_value();
    Bytes out(kHeaderSize + query.qname_wire.size() + kQuestionFixedSize +
              (edns ? kOptRecordSize : 0));
    ByteWriter w(out);
    w.be16(query.id);
    w.be16(query.flags);
    w.be16(1);  // QDCOUNT
    w.be16(0);
    w.be16(0);
    w.be16(static_cast<std::uint16_t>(edns ? 1U : 0U));
    w.bytes(query.qname_wire);
    w.be16(query.qtype);
    w.be16(query.qclass);
    if (edns) {
        w.u8(0);  // root owner
        w.be16(rrtype::kOpt);
        w.be16(*query.edns_udp_size);
        w.be32(0);  // extended RCODE, version 0, no flags
        w.be16(0);  // no options
    }
    return out;
}

Expected<Bytes, DnsError> encode_name(std::string_view dotted) {
    if (!dotted.empty() && dotted.back() == '.') {
        dotted.remove_suffix(1);
    }
    Bytes out;
    if (dotted.size() + 2 > kMaxNameLength) {
        return fail(DnsError::NameTooLong);  // labels add one byte each, minus the dots
    }
    out.reserve(dotted.size() + 2);
    while (!dotted.empty()) {
        const std::size_t dot = dotted.find('.');
        const std::string_view label = dotted.substr(0, dot);
        if (label.empty() || label.size() > kMaxLabelLength) {
            return fail(DnsError::BadLabel);
        }
        out.push_back(static_cast<std::byte>(label.size()));
        const ByteView bytes = as_bytes(label);
        out.insert(out.end(), bytes.begin(), bytes.end());
        if (dot == std::string_view::npos) {
            break;
        }
        dotted.remove_prefix(dot + 1);
        if (dotted.empty()) {
            return fail(DnsError::BadLabel);  // "a..": an empty label before the final dot
        }
    }
    out.push_back(std::byte{0});
    return out;
}

bool set_id(MutableByteView packet, std::uint16_t id) noexcept {
    if (packet.size() < kHeaderSize) {
        return false;
    }
    store_be16<0>(packet.first<2>(), id);
    return true;
}

bool answers_query(ByteView response, const Query& query) {
    const auto header = parse_header(response);
    if (!header.has_value() || !header->is_response() || header->id != query.id ||
        header->opcode() != 0) {
        return false;
    }
    if (header->qdcount == 0) {
        return header->rcode() != 0;  // FORMERR and the like may drop the question
    }
    if (header->qdcount != 1) {
        return false;
    }
    std::size_t pos = kHeaderSize;
    const auto name = detail::read_name(response, pos);
    if (!name.has_value()) {
        return false;
    }
    ByteReader question(response.subspan(pos));
    const auto qtype = question.be16();
    const auto qclass = question.be16();
    return qtype && qclass && name->text == query.name && *qtype == query.qtype &&
           *qclass == query.qclass;
}

}  // namespace cyphonic::dns
