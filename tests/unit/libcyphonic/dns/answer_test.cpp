#include <array>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "support/golden.hpp"

#include "cyphonic/dns/message.hpp"

namespace cyphonic::dns {

inline void PrintTo(DnsError e, std::ostream* os) {
    *os << to_string(e);
}

namespace {

Bytes hex(const std::string& text) {
    return golden::hex(text);
}

// ID 0x1234, RD, "Peer.example.net" (case as asked), EDNS payload 4096.
Query sample_query(std::uint16_t qtype, bool edns = true) {
    Query q;
    q.id = 0x1234;
    q.flags = flag::kRd;
    q.name = "peer.example.net";
    q.qname_wire = *encode_name("Peer.example.net");
    q.qtype = qtype;
    q.qclass = kClassIn;
    if (edns) {
        q.edns_udp_size = 4096;
    }
    return q;
}

const std::array<IpAddress, 2> kAddrs = {*IpAddress::parse("10.1.2.3"),
                                         *IpAddress::parse("fd00::1")};

constexpr auto kQuestionPeerA = "0450656572076578616d706c65036e657400 0001 0001";
constexpr auto kOurOpt = "00 0029 04d0 00000000 0000";  // root, OPT, 1232, no flags or options

TEST(DnsAnswer, BuildsExactAnswerForA) {
    const Bytes answer = answer_addresses(sample_query(rrtype::kA), kAddrs, 60);
    // QR AA RD RA, NOERROR; one question, one answer, one additional (OPT).
    const Bytes expected = hex(std::string("1234 8580 0001 0001 0000 0001") + kQuestionPeerA +
                               "c00c 0001 0001 0000003c 0004 0a010203" + kOurOpt);
    EXPECT_EQ(to_hex(answer), to_hex(expected));
}

TEST(DnsAnswer, BuildsExactAnswerForAaaaWithoutEdns) {
    const Bytes answer = answer_addresses(sample_query(rrtype::kAaaa, false), kAddrs, 300);
    const Bytes expected =
        hex("1234 8580 0001 0001 0000 0000 0450656572076578616d706c65036e657400 001c 0001"
            "c00c 001c 0001 0000012c 0010 fd000000000000000000000000000001");
    EXPECT_EQ(to_hex(answer), to_hex(expected));
}

TEST(DnsAnswer, AnyGetsBothFamilies) {
    const Bytes answer = answer_addresses(sample_query(rrtype::kAny, false), kAddrs, 60);
    const auto h = parse_header(answer);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->ancount, 2);
    EXPECT_EQ(answer.size(), 12U + 18U + 4U + 16U + 28U);
}

TEST(DnsAnswer, MissingFamilyIsNodata) {
    const std::array<IpAddress, 1> v4_only = {*IpAddress::parse("10.1.2.3")};
    const Bytes answer = answer_addresses(sample_query(rrtype::kAaaa), v4_only, 60);
    EXPECT_EQ(answer, answer_nodata(sample_query(rrtype::kAaaa)));
    const Bytes expected = hex(std::string("1234 8580 0001 0000 0000 0001") +
                               "0450656572076578616d706c65036e657400 001c 0001" + kOurOpt);
    EXPECT_EQ(to_hex(answer), to_hex(expected));
}

TEST(DnsAnswer, RcodesAndAuthority) {
    const Query q = sample_query(rrtype::kA);
    const Bytes nx = answer_rcode(q, Rcode::NxDomain);
    EXPECT_EQ(to_hex(nx),
              to_hex(hex(std::string("1234 8583 0001 0000 0000 0001") + kQuestionPeerA + kOurOpt)));
    // Failures are not authoritative.
    EXPECT_EQ(parse_header(answer_rcode(q, Rcode::ServFail))->flags, 0x8182);
    EXPECT_EQ(parse_header(answer_rcode(q, Rcode::Refused))->flags, 0x8185);
    EXPECT_EQ(parse_header(answer_rcode(q, Rcode::FormErr))->flags, 0x8181);
}

TEST(DnsAnswer, EchoesCheckingDisabledButNotOtherBits) {
    Query q = sample_query(rrtype::kA);
    q.flags = flag::kRd | flag::kCd | flag::kAd | flag::kTc;
    EXPECT_EQ(parse_header(answer_nodata(q))->flags, 0x8590);
}

TEST(DnsAnswer, AnswersMatchTheirQuery) {
    for (const std::uint16_t qtype : {rrtype::kA, rrtype::kAaaa, rrtype::kAny, rrtype::kMx}) {
        SCOPED_TRACE(qtype);
        const Query q = sample_query(qtype);
        EXPECT_TRUE(answers_query(answer_addresses(q, kAddrs, 60), q));
        EXPECT_TRUE(answers_query(answer_rcode(q, Rcode::ServFail), q));
        // A query is not an answer.
        EXPECT_FALSE(answers_query(encode_query(q), q));
    }
}

TEST(DnsAnswersQuery, ChecksIdNameTypeAndClass) {
    const Query q = sample_query(rrtype::kA);
    const Bytes good = answer_addresses(q, kAddrs, 60);

    Query other_case = q;  // upstream echoes the case we sent; compare without it
    other_case.qname_wire = *encode_name("PEER.EXAMPLE.NET");
    EXPECT_TRUE(answers_query(answer_addresses(other_case, kAddrs, 60), q));

    Query other = q;
    other.id = 0x4321;
    EXPECT_FALSE(answers_query(answer_addresses(other, kAddrs, 60), q));
    other = q;
    other.qname_wire = *encode_name("peer.example.org");
    EXPECT_FALSE(answers_query(answer_addresses(other, kAddrs, 60), q));
    other = q;
    other.qtype = rrtype::kAaaa;
    EXPECT_FALSE(answers_query(answer_addresses(other, kAddrs, 60), q));
    other = q;
    other.qclass = kClassAny;
    EXPECT_FALSE(answers_query(answer_addresses(other, kAddrs, 60), q));

    // A bare error header (no question) is accepted only with an error RCODE.
    EXPECT_TRUE(answers_query(hex("1234 8181 0000 0000 0000 0000"), q));
    EXPECT_FALSE(answers_query(hex("1234 8180 0000 0000 0000 0000"), q));
    // Cut anywhere before the end of the question.
    for (std::size_t n = 0; n < kHeaderSize + q.qname_wire.size() + 4; ++n) {
        EXPECT_FALSE(answers_query(ByteView(good).first(n), q)) << n;
    }
}

TEST(DnsAnswerHeaderOnly, AnswersFormerrFromHeader) {
    // A readable header with an unreadable question: echo ID, opcode, RD, CD.
    const Bytes garbage = hex("beef 0110 0001 0000 0000 0000 ff ff ff");
    const auto answer = answer_header_only(garbage, Rcode::FormErr);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(to_hex(*answer), "beef81910000000000000000");
    // NOTIMP for an opcode we do not serve, opcode echoed (RFC 1035 §4.1.1).
    const auto notimp = answer_header_only(hex("beef 2800 0001 0000 0000 0000"), Rcode::NotImp);
    ASSERT_TRUE(notimp.has_value());
    EXPECT_EQ(to_hex(*notimp), "beefa8840000000000000000");
}

TEST(DnsAnswerHeaderOnly, NeverAnswersResponsesOrShortInput) {
    EXPECT_EQ(answer_header_only(hex("beef 8180 0001 0000 0000 0000"), Rcode::FormErr).error(),
              DnsError::NotAQuery);
    const Bytes header = hex("beef 0100 0001 0000 0000 0000");
    for (std::size_t n = 0; n < kHeaderSize; ++n) {
        EXPECT_EQ(answer_header_only(ByteView(header).first(n), Rcode::FormErr).error(),
                  DnsError::Truncated);
    }
}

}  // namespace
}  // namespace cyphonic::dns
