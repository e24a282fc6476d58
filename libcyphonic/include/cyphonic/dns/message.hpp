#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"

// The DNS messages the resolvers of the node and adapter daemons need (RFC 1035, RFC 6891):
// parsing one question of a client's query, building the answers for overlay names, and the
// few header operations forwarding needs. No I/O; bytes in, bytes out; nothing throws.
namespace cyphonic::dns {

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kMaxLabelLength = 63;
inline constexpr std::size_t kMaxNameLength = 255;  // wire form, root label included
// RFC 1035 §4.2.1: the UDP payload every client accepts; EDNS may announce more.
inline constexpr std::uint16_t kMinUdpPayload = 512;
// The payload size this server announces in its own OPT record (the DNS flag day 2020 value,
// which avoids IP fragmentation on common paths).
inline constexpr std::uint16_t kOurUdpPayload = 1232;

// Record types and classes used here; other values pass through as plain numbers.
namespace rrtype {
inline constexpr std::uint16_t kA = 1;
inline constexpr std::uint16_t kNs = 2;
inline constexpr std::uint16_t kCname = 5;
inline constexpr std::uint16_t kSoa = 6;
inline constexpr std::uint16_t kMx = 15;
inline constexpr std::uint16_t kTxt = 16;
inline constexpr std::uint16_t kAaaa = 28;
inline constexpr std::uint16_t kOpt = 41;
inline constexpr std::uint16_t kAny = 255;
}  // namespace rrtype
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr std::uint16_t kClassAny = 255;

// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD).
namespace flag {
inline constexpr std::uint16_t kQr = 0x8000;
inline constexpr std::uint16_t kOpcodeMask = 0x7800;
inline constexpr std::uint16_t kAa = 0x0400;
inline constexpr std::uint16_t kTc = 0x0200;
inline constexpr std::uint16_t kRd = 0x0100;
inline constexpr std::uint16_t kRa = 0x0080;
inline constexpr std::uint16_t kAd = 0x0020;
inline constexpr std::uint16_t kCd = 0x0010;
inline constexpr std::uint16_t kRcodeMask = 0x000F;
}  // namespace flag

enum class Rcode : std::uint8_t {
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NxDomain = 3,
    NotImp = 4,
    Refused = 5,
};
[[nodiscard]] std::string_view to_string(Rcode r) noexcept;

// Why parse_query (or another reader here) rejected its input: one enumerator per reason, each
// counted by the server (STYLE.md §3). Keep `CYPHONIC_DNS_ERRORS` the single list.
#define CYPHONIC_DNS_ERRORS(X)                                                             \
    X(Truncated)         /* fewer bytes than the header, a name or a record needs */       \
    X(NotAQuery)         /* QR set: a response, never answered (no reflection loops) */    \
    X(BadOpcode)         /* opcode other than QUERY (0) */                                 \
    X(BadQuestionCount)  /* QDCOUNT other than 1 */                                        \
    X(BadAnswerCount)    /* ANCOUNT other than 0 in a query */                             \
    X(BadAuthorityCount) /* NSCOUNT other than 0 in a query */                             \
    X(BadLabel)          /* a label length byte 0x40–0xBF (> 63, or an extended type) */ \
    X(NameTooLong)       /* a name over 255 bytes in wire form */                          \
    X(BadPointer)        /* a compression pointer forward or beyond the message */         \
    X(PointerLoop)       /* a pointer back into the name being read: it would not end */   \
    X(BadOpt)            /* an OPT record not owned by the root, or a second one */        \
    X(TrailingBytes)     /* bytes after the last record the counts announce */

enum class DnsError : std::uint8_t {
#define CYPHONIC_ENUMERATOR(name) name,
    CYPHONIC_DNS_ERRORS(CYPHONIC_ENUMERATOR)
#undef CYPHONIC_ENUMERATOR
};
inline constexpr std::size_t kDnsErrorCount = 0
#define CYPHONIC_COUNT(name) +1  // NOLINT(bugprone-macro-parentheses)
    CYPHONIC_DNS_ERRORS(CYPHONIC_COUNT)
#undef CYPHONIC_COUNT
    ;
// snake_case reason ("pointer_loop"), used as a counter label.
[[nodiscard]] std::string_view to_string(DnsError e) noexcept;

// The fixed 12-byte header.
struct Header {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::uint16_t qdcount = 0;
    std::uint16_t ancount = 0;
    std::uint16_t nscount = 0;
    std::uint16_t arcount = 0;

    [[nodiscard]] bool is_response() const noexcept { return (flags & flag::kQr) != 0; }
    [[nodiscard]] std::uint8_t opcode() const noexcept {
        return static_cast<std::uint8_t>((flags & flag::kOpcodeMask) >> 11U);
    }
    [[nodiscard]] bool truncated() const noexcept { return (flags & flag::kTc) != 0; }
    [[nodiscard]] std::uint8_t rcode() const noexcept {
        return static_cast<std::uint8_t>(flags & flag::kRcodeMask);
    }
    friend bool operator==(const Header&, const Header&) = default;
};

// One client query: the header fields an answer echoes, its single question and its EDNS
// payload size. Owning; nothing refers back to the packet.
struct Query {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;  // header flags as received; answers echo RD and CD
    // The question name in presentation form: ASCII lower-cased, labels joined by '.', no
    // trailing dot ("" is the root). '.', '\' and bytes outside 0x21–0x7E inside a label are
    // escaped ("\.", "\\", "\DDD"), so the text names exactly one wire name.
    std::string name;
    // The same name in uncompressed wire form with its original case: answers echo it, since
    // resolvers using 0x20 case randomisation compare the case of the echoed question.
    Bytes qname_wire;
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    // The OPT record's UDP payload size as sent; absent when the query had no OPT record.
    std::optional<std::uint16_t> edns_udp_size;

    // The largest UDP answer this client accepts (RFC 6891 §6.2.5: below 512 counts as 512).
    [[nodiscard]] std::size_t max_udp_answer() const noexcept;

    friend bool operator==(const Query&, const Query&) = default;
};

// Reads the header; Truncated when fewer than 12 bytes.
[[nodiscard]] Expected<Header, DnsError> parse_header(ByteView packet) noexcept;
// The ID of anything with a readable header.
[[nodiscard]] Expected<std::uint16_t, DnsError> peek_id(ByteView packet) noexcept;

// Parses a client's query: QR 0, opcode QUERY, exactly one question, no answer or authority
// records, any additional records (one OPT among them is remembered, its DO bit and options
// ignored), and nothing after them. Compression pointers must point backwards, before the
// name being read (which rules out loops); labels are ≤ 63 bytes and names ≤ 255. Never reads
// outside `packet`; allocates only the name (≤ 255 bytes, ≤ 1020 as escaped text), whatever
// the counts claim.
[[nodiscard]] Expected<Query, DnsError> parse_query(ByteView packet);

// The wire form of a query for `query`'s fields (one question, an OPT record when
// `edns_udp_size` is set); parse_query gives the same Query back. `qname_wire` is written as
// it is, so it must be a valid uncompressed name.
[[nodiscard]] Bytes encode_query(const Query& query);

// "peer.Example.net" (an optional trailing dot; no escapes) → uncompressed wire form, case
// kept. Errors: BadLabel for an empty label or one over 63 bytes, NameTooLong over 255 bytes.
[[nodiscard]] Expected<Bytes, DnsError> encode_name(std::string_view dotted);

// Answers for an overlay name. Every answer echoes ID, RD, CD and the question (original
// case), sets QR and RA, and carries an OPT record (payload kOurUdpPayload) when the query had
// one. NOERROR and NXDOMAIN answers are authoritative (AA).
//
// NOERROR with one A record per IPv4 address (qtype A), AAAA per IPv6 address (qtype AAAA) or
// both (qtype ANY), each with `ttl` seconds and the owner name compressed to the question.
// Addresses of the other family are left out; none left is a NODATA answer. Callers pass a
// handful of addresses (one per family): a few dozen could outgrow a 512-byte UDP answer.
[[nodiscard]] Bytes answer_addresses(const Query& query, std::span<const IpAddress> addrs,
                                     std::uint32_t ttl);
// NOERROR without records: the name exists, the type does not (e.g. AAAA for a peer without
// a virtual IPv6, or MX for an overlay name).
[[nodiscard]] Bytes answer_nodata(const Query& query);
// An answer without records and with `rcode` (NXDOMAIN, SERVFAIL, REFUSED, FORMERR, ...).
[[nodiscard]] Bytes answer_rcode(const Query& query, Rcode rcode);
// For a query whose header is readable but whose question is not: the bare header with ID,
// opcode, RD and CD echoed, QR and RA set, `rcode` (FORMERR, or NOTIMP for an unknown opcode)
// and all counts 0. Errors: Truncated below 12 bytes, NotAQuery when QR is set (a response
// must never be answered).
[[nodiscard]] Expected<Bytes, DnsError> answer_header_only(ByteView packet, Rcode rcode);

// Where a name lies relative to a zone, label by label and without regard to ASCII case; both
// in uncompressed wire form (Query::qname_wire, encode_name). A malformed name is Outside.
enum class ZoneMatch : std::uint8_t {
    Outside,  // not the zone and not below it ("example.org", "badexample.net")
    Apex,     // the zone itself ("example.net")
    Below,    // a name inside it ("peer.example.net", "a.b.example.net")
};
[[nodiscard]] ZoneMatch match_zone(ByteView name_wire, ByteView zone_wire) noexcept;

// Writes `id` over the ID of `packet` (forwarding swaps client and upstream IDs). False when
// `packet` is shorter than a header.
bool set_id(MutableByteView packet, std::uint16_t id) noexcept;

// True when `response` is a response (QR) to `query`: same ID, and its question (when it has
// one; only an error answer may have none) is the query's name, type and class, compared
// without regard to case. Used to accept only the upstream answer that was asked for.
[[nodiscard]] bool answers_query(ByteView response, const Query& query);

}  // namespace cyphonic::dns
