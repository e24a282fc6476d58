#include "cyphonic/dns/message.hpp"

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/golden.hpp"

namespace cyphonic::dns {

inline void PrintTo(DnsError e, std::ostream* os) {
    *os << to_string(e);
}

namespace {

// Queries as `dig` 9.18 sent them (captured from the wire):
// `dig peer.Example.NET A` (EDNS 1232 with a cookie option, RD and AD set).
constexpr auto kDigA =
    "733f012000010000000000010470656572074578616d706c65034e4554000001000100002904d0000000"
    "00000c000a000862b7a24d37fe3f73";
// `dig peer.example.net AAAA +noedns`.
constexpr auto kDigAaaaNoEdns =
    "2ebc012000010000000000000470656572076578616d706c65036e657400001c0001";
// `dig www.debian.org MX +dnssec` (DO bit set).
constexpr auto kDigMxDnssec =
    "351701200001000000000001037777770664656269616e036f726700000f000100002904d000008000000c"
    "000a00089286c83a9231d274";
// `dig . NS +nocookie`: the root name.
constexpr auto kDigRootNs = "88de01200001000000000001000002000100002904d0000000000000";

Bytes hex(const char* text) {
    return golden::hex(text);
}

// A query header followed by `rest` (question and records as raw hex).
Bytes query_with(const std::string& header, const std::string& rest) {
    return golden::hex(header + rest);
}

constexpr auto kHeader1Q = "abcd01000001000000000000";           // RD, one question
constexpr auto kHeader1Q1Ar = "abcd01000001000000000001";        // ... and one additional
constexpr auto kQuestionA = "0161076578616d706c6500 0001 0001";  // a.example A IN

void expect_error(const Bytes& packet, DnsError expected) {
    const auto q = parse_query(packet);
    ASSERT_FALSE(q.has_value()) << "parsed as " << q->name;
    EXPECT_EQ(q.error(), expected);
}

TEST(DnsParseQuery, ReadsDigQueryWithEdnsAndCookie) {
    const auto q = parse_query(hex(kDigA));
    ASSERT_TRUE(q.has_value()) << to_string(q.error());
    EXPECT_EQ(q->id, 0x733f);
    EXPECT_EQ(q->flags, 0x0120);
    EXPECT_EQ(q->name, "peer.example.net");  // lower-cased
    EXPECT_EQ(q->qtype, rrtype::kA);
    EXPECT_EQ(q->qclass, kClassIn);
    EXPECT_EQ(q->edns_udp_size, 1232);
    EXPECT_EQ(q->max_udp_answer(), 1232U);
    // The wire form keeps the case as asked.
    EXPECT_EQ(q->qname_wire, hex("0470656572074578616d706c65034e455400"));
}

TEST(DnsParseQuery, ReadsQueryWithoutEdns) {
    const auto q = parse_query(hex(kDigAaaaNoEdns));
    ASSERT_TRUE(q.has_value()) << to_string(q.error());
    EXPECT_EQ(q->name, "peer.example.net");
    EXPECT_EQ(q->qtype, rrtype::kAaaa);
    EXPECT_FALSE(q->edns_udp_size.has_value());
    EXPECT_EQ(q->max_udp_answer(), 512U);
}

TEST(DnsParseQuery, ReadsDnssecQueryAndRootName) {
    const auto mx = parse_query(hex(kDigMxDnssec));
    ASSERT_TRUE(mx.has_value()) << to_string(mx.error());
    EXPECT_EQ(mx->name, "www.debian.org");
    EXPECT_EQ(mx->qtype, rrtype::kMx);

    const auto root = parse_query(hex(kDigRootNs));
    ASSERT_TRUE(root.has_value()) << to_string(root.error());
    EXPECT_EQ(root->name, "");
    EXPECT_EQ(root->qtype, rrtype::kNs);
    EXPECT_EQ(root->qname_wire, hex("00"));
}

TEST(DnsParseQuery, SmallEdnsPayloadCountsAs512) {
    Query q;
    q.qname_wire = *encode_name("a.example");
    q.edns_udp_size = 100;
    EXPECT_EQ(q.max_udp_answer(), 512U);
}

TEST(DnsParseQuery, EscapesUnusualLabelBytes) {
    // Labels "a.b" (a dot inside), "C D" (upper case, a space) and "x\" (a backslash).
    const auto q = parse_query(query_with(kHeader1Q, "03612e62 03432044 02785c 00 0001 0001"));
    ASSERT_TRUE(q.has_value()) << to_string(q.error());
    EXPECT_EQ(q->name, "a\\.b.c\\032d.x\\\\");
}

TEST(DnsParseQuery, FollowsBackwardPointerIntoHeader) {
    // The name is a pointer to offset 0, where the ID 0x0161 reads as label "a", the flags
    // 0x0100 as the label "\000", and QDCOUNT's high byte ends the name. Odd, but in bounds
    // and pointing backwards, so it is a name.
    const auto q = parse_query(hex("016101000001000000000000 c000 0001 0001"));
    ASSERT_TRUE(q.has_value()) << to_string(q.error());
    EXPECT_EQ(q->name, "a.\\000");
    EXPECT_EQ(q->qname_wire, hex("0161 0100 00"));
}

TEST(DnsParseQuery, AdditionalRecordMayPointAtQuestion) {
    // An A record in the additional section whose owner is compressed to the question.
    const auto q = parse_query(query_with(
        kHeader1Q1Ar, std::string(kQuestionA) + "c00c 0001 0001 0000003c 0004 01020304"));
    ASSERT_TRUE(q.has_value()) << to_string(q.error());
    EXPECT_EQ(q->name, "a.example");
    EXPECT_FALSE(q->edns_udp_size.has_value());
}

TEST(DnsParseQuery, RoundTripsThroughEncodeQuery) {
    for (const auto* text : {kDigA, kDigAaaaNoEdns, kDigMxDnssec, kDigRootNs}) {
        SCOPED_TRACE(text);
        const auto first = parse_query(hex(text));
        ASSERT_TRUE(first.has_value());
        const Bytes encoded = encode_query(*first);
        const auto second = parse_query(encoded);
        ASSERT_TRUE(second.has_value()) << to_string(second.error());
        EXPECT_EQ(*second, *first);
    }
    // Without options the encoding is the exact input.
    EXPECT_EQ(encode_query(*parse_query(hex(kDigAaaaNoEdns))), hex(kDigAaaaNoEdns));
    EXPECT_EQ(encode_query(*parse_query(hex(kDigRootNs))), hex(kDigRootNs));
}

TEST(DnsParseQuery, RejectsEveryTruncation) {
    for (const auto* text : {kDigA, kDigAaaaNoEdns, kDigMxDnssec, kDigRootNs}) {
        const Bytes full = hex(text);
        for (std::size_t n = 0; n < full.size(); ++n) {
            SCOPED_TRACE(std::string(text) + " cut at " + std::to_string(n));
            expect_error(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)),
                         DnsError::Truncated);
        }
    }
}

TEST(DnsParseQuery, RejectsTrailingBytes) {
    for (const auto* text : {kDigA, kDigAaaaNoEdns}) {
        Bytes packet = hex(text);
        packet.push_back(std::byte{0});
        expect_error(packet, DnsError::TrailingBytes);
    }
}

TEST(DnsParseQuery, RejectsPointerLoops) {
    // A pointer to itself.
    expect_error(query_with(kHeader1Q, "c00c 0001 0001"), DnsError::PointerLoop);
    // A label, then a pointer back to the start of the same name.
    expect_error(query_with(kHeader1Q, "03616263 c00c 0001 0001"), DnsError::PointerLoop);
    // Into the middle of the same name.
    expect_error(query_with(kHeader1Q, "03616263 0178 c010 0001 0001"), DnsError::PointerLoop);
    // In an additional record's owner.
    expect_error(query_with(kHeader1Q1Ar, std::string(kQuestionA) + "c01b 0029 1000 00000000 0000"),
                 DnsError::PointerLoop);
}

TEST(DnsParseQuery, RejectsForwardAndOutOfRangePointers) {
    // Forward, to a byte inside the message (the QTYPE after it).
    expect_error(query_with(kHeader1Q, "c00e 0001 0001"), DnsError::BadPointer);
    // Jumps must keep going down: a jump into the header (ID 0xc00c) whose bytes point back
    // up to the question is a forward pointer there.
    expect_error(hex("c00c01000001000000000000 c000 0001 0001"), DnsError::BadPointer);
    // Past the end of the message, with the largest offsets.
    expect_error(query_with(kHeader1Q, "c0ff 0001 0001"), DnsError::BadPointer);
    expect_error(query_with(kHeader1Q, "ffff 0001 0001"), DnsError::BadPointer);
}

TEST(DnsParseQuery, RejectsLongAndExtendedLabels) {
    const std::string label64 = "40" + std::string(128, '6');  // 64 × 'f'
    expect_error(query_with(kHeader1Q, label64 + "00 0001 0001"), DnsError::BadLabel);
    // 0x80 and 0x40 prefixes are extended label types, not lengths.
    expect_error(query_with(kHeader1Q, "8061 00 0001 0001"), DnsError::BadLabel);
    expect_error(query_with(kHeader1Q, "7f61 00 0001 0001"), DnsError::BadLabel);
    // 63 is allowed.
    const std::string label63 = "3f" + std::string(126, '6');
    EXPECT_TRUE(parse_query(query_with(kHeader1Q, label63 + "00 0001 0001")).has_value());
}

TEST(DnsParseQuery, RejectsNamesOver255Bytes) {
    const std::string label63 = "3f" + std::string(126, '6');
    const std::string label61 = "3d" + std::string(122, '6');
    const std::string label62 = "3e" + std::string(124, '6');
    // 3 × 64 + 62 + 1 = 255 bytes: the longest name.
    const auto longest =
        parse_query(query_with(kHeader1Q, label63 + label63 + label63 + label61 + "00 0001 0001"));
    ASSERT_TRUE(longest.has_value()) << to_string(longest.error());
    EXPECT_EQ(longest->qname_wire.size(), 255U);
    // One more byte.
    expect_error(query_with(kHeader1Q, label63 + label63 + label63 + label62 + "00 0001 0001"),
                 DnsError::NameTooLong);
    // Through pointers: a 192-byte name in the question, then an additional record's owner
    // of two more 63-byte labels compressed onto it.
    const std::string question = label63 + label63 + label63 + "00 0001 0001";
    expect_error(query_with(kHeader1Q1Ar, question + label63 + "c00c 0001 0001 00000000 0000"),
                 DnsError::NameTooLong);
}

TEST(DnsParseQuery, RejectsWrongCounts) {
    expect_error(hex("abcd01000000000000000000"), DnsError::BadQuestionCount);
    expect_error(query_with("abcd01000002000000000000", std::string(kQuestionA) + kQuestionA),
                 DnsError::BadQuestionCount);
    expect_error(query_with("abcd01000001000100000000", kQuestionA), DnsError::BadAnswerCount);
    expect_error(query_with("abcd01000001000000010000", kQuestionA), DnsError::BadAuthorityCount);
    // ARCOUNT claims 65535 records; none is there.
    expect_error(query_with("abcd0100000100000000ffff", kQuestionA), DnsError::Truncated);
}

TEST(DnsParseQuery, RejectsResponsesAndOtherOpcodes) {
    expect_error(query_with("abcd81800001000000000000", kQuestionA), DnsError::NotAQuery);
    expect_error(query_with("abcd28000001000000000000", kQuestionA),
                 DnsError::BadOpcode);  // UPDATE
    expect_error(query_with("abcd08000001000000000000", kQuestionA),
                 DnsError::BadOpcode);  // IQUERY
}

TEST(DnsParseQuery, RejectsBadOptRecords) {
    const std::string opt = "00 0029 1000 00000000 0000";
    expect_error(query_with("abcd01000001000000000002", kQuestionA + opt + opt), DnsError::BadOpt);
    expect_error(query_with(kHeader1Q1Ar, std::string(kQuestionA) + "c00c 0029 1000 00000000 0000"),
                 DnsError::BadOpt);
}

TEST(DnsHeader, ParsesAndPeeksAndSetsId) {
    Bytes packet = hex(kDigA);
    const auto h = parse_header(packet);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->id, 0x733f);
    EXPECT_EQ(h->qdcount, 1);
    EXPECT_EQ(h->arcount, 1);
    EXPECT_FALSE(h->is_response());
    EXPECT_EQ(h->opcode(), 0);
    EXPECT_EQ(peek_id(packet), 0x733f);
    ASSERT_TRUE(set_id(packet, 0xbeef));
    EXPECT_EQ(peek_id(packet), 0xbeef);
    for (std::size_t n = 0; n < kHeaderSize; ++n) {
        Bytes short_packet(n);
        EXPECT_EQ(peek_id(short_packet).error(), DnsError::Truncated);
        EXPECT_FALSE(set_id(short_packet, 1));
    }
}

TEST(DnsEncodeName, EncodesDottedNames) {
    EXPECT_EQ(*encode_name("Peer.example.net"), hex("0450656572076578616d706c65036e657400"));
    EXPECT_EQ(*encode_name("peer.example.net."), hex("0470656572076578616d706c65036e657400"));
    EXPECT_EQ(*encode_name(""), hex("00"));
    EXPECT_EQ(*encode_name("."), hex("00"));
    EXPECT_EQ(encode_name("a..b").error(), DnsError::BadLabel);
    EXPECT_EQ(encode_name(".a").error(), DnsError::BadLabel);
    EXPECT_EQ(encode_name("a..").error(), DnsError::BadLabel);
    EXPECT_EQ(encode_name(std::string(64, 'a')).error(), DnsError::BadLabel);
    const std::string label(63, 'a');
    const std::string longest = label + "." + label + "." + label + "." + std::string(61, 'a');
    EXPECT_EQ(encode_name(longest)->size(), 255U);
    EXPECT_EQ(encode_name(longest + "a").error(), DnsError::NameTooLong);
}

TEST(DnsMatchZone, ComparesWholeLabelsWithoutCase) {
    const Bytes zone = *encode_name("example.net");
    const auto match = [&zone](const std::string& text) {
        return match_zone(*encode_name(text), zone);
    };
    EXPECT_EQ(match("example.net"), ZoneMatch::Apex);
    EXPECT_EQ(match("EXAMPLE.Net"), ZoneMatch::Apex);
    EXPECT_EQ(match("peer.example.net"), ZoneMatch::Below);
    EXPECT_EQ(match("a.b.Example.net"), ZoneMatch::Below);
    EXPECT_EQ(match("badexample.net"), ZoneMatch::Outside);
    EXPECT_EQ(match("example.net.org"), ZoneMatch::Outside);
    EXPECT_EQ(match("net"), ZoneMatch::Outside);
    EXPECT_EQ(match(""), ZoneMatch::Outside);
    // One label "x.example" under "net": a text suffix test would say Below.
    EXPECT_EQ(match_zone(hex("09782e6578616d706c65036e657400"), zone), ZoneMatch::Outside);
    // Malformed (a length running past the end, a compression byte) is Outside.
    EXPECT_EQ(match_zone(hex("0561"), zone), ZoneMatch::Outside);
    EXPECT_EQ(match_zone(hex("c00c"), zone), ZoneMatch::Outside);
    EXPECT_EQ(match_zone({}, zone), ZoneMatch::Outside);
}

TEST(DnsError, HasSnakeCaseNames) {
    EXPECT_EQ(to_string(DnsError::Truncated), "truncated");
    EXPECT_EQ(to_string(DnsError::BadLabel), "bad_label");
    EXPECT_EQ(to_string(DnsError::PointerLoop), "pointer_loop");
    EXPECT_EQ(to_string(DnsError::NotAQuery), "not_a_query");
    EXPECT_EQ(to_string(DnsError::BadQuestionCount), "bad_question_count");
    EXPECT_EQ(to_string(DnsError::TrailingBytes), "trailing_bytes");
    EXPECT_EQ(to_string(static_cast<DnsError>(200)), "unknown");
}

}  // namespace
}  // namespace cyphonic::dns
