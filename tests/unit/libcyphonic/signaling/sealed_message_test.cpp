#include "cyphonic/signaling/sealed_message.hpp"

#include <gtest/gtest.h>

#include "support/golden.hpp"
#include "support/sample_messages.hpp"

namespace cyphonic::signaling {
namespace {

using wire::CipherSuiteId;

constexpr std::array<CipherSuiteId, 3> kSuites = {
    CipherSuiteId::AesCbcHmacMd5, CipherSuiteId::Aes256Gcm, CipherSuiteId::ChaCha20Poly1305};

// PROTOCOL.md §11: K = 00 01 … 1f, IV 80…8f, nonce 40…4b.
Bytes test_key() {
    Bytes k(32);
    for (std::size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<std::byte>(i);
    }
    return k;
}
Bytes test_nonce(CipherSuiteId suite) {
    const bool cbc = suite == CipherSuiteId::AesCbcHmacMd5;
    Bytes n(cbc ? 16 : 12);
    for (std::size_t i = 0; i < n.size(); ++i) {
        n[i] = static_cast<std::byte>((cbc ? 0x80 : 0x40) + i);
    }
    return n;
}

crypto::CipherSuite suite_of(CipherSuiteId id, ByteView key) {
    auto s = crypto::CipherSuite::create(id, key);
    EXPECT_TRUE(s.has_value());
    return std::move(*s);
}

std::vector<samples::SampleMessage> udp_samples() {
    std::vector<samples::SampleMessage> out;
    for (auto& m : samples::sample_messages()) {
        if (wire::allowed_on_udp(m.header.type)) {
            out.push_back(std::move(m));
        }
    }
    return out;
}

// The side a sample's sender is on, from its SENDER_SIDE flag (D15).
Side sender_side(const samples::SampleMessage& m) {
    return m.header.has(wire::flag::kSenderSide) ? Side::Set : Side::Clear;
}
Side other(Side s) {
    return s == Side::Set ? Side::Clear : Side::Set;
}

struct Case {
    samples::SampleMessage sample;
    CipherSuiteId suite;
};
void PrintTo(const Case& c, std::ostream* os) {
    *os << c.sample.name << "/" << wire::to_string(c.suite);
}

std::vector<Case> all_cases() {
    std::vector<Case> out;
    for (const auto suite : kSuites) {
        for (auto& m : udp_samples()) {
            out.push_back({std::move(m), suite});
        }
    }
    return out;
}

class SealedMessage : public ::testing::TestWithParam<Case> {};

// Golden vectors: the exact sealed bytes of every UDP message under every suite, for the fixed
// key and IV/nonce of §11. An accidental change of the wire format or the protection fails here.
TEST_P(SealedMessage, MatchesGoldenVector) {
    const auto& [sample, suite] = GetParam();
    const std::string name =
        "sealed/" + std::string(wire::to_string(suite)) + "/" + sample.name + ".hex";
    const Bytes plain = samples::plaintext(sample);
    auto cs = suite_of(suite, test_key());
    Bytes out(cs.sealed_size(plain.size() - wire::kBaseHeaderSize));
    const auto header = std::span(plain).first<wire::kBaseHeaderSize>();
    const auto n = cs.seal_with_nonce(header, std::span(plain).subspan(wire::kBaseHeaderSize),
                                      test_nonce(suite), out);
    ASSERT_TRUE(n.has_value());
    out.resize(*n);
    if (golden::writing()) {
        golden::write(name,
                      sample.name + " sealed with " + std::string(wire::to_string(suite)) +
                          ", key 000102..1f, fixed IV/nonce (PROTOCOL.md §11)",
                      out);
    }
    EXPECT_EQ(to_hex(out), to_hex(golden::read(name)));

    // And the receiving side gets the sample back from the golden bytes.
    const Bytes bytes = golden::read(name);
    const auto split = wire::split_datagram(bytes);
    ASSERT_TRUE(split.has_value()) << wire::to_string(split.error());
    ASSERT_EQ(split->size(), 1U);
    Opener opener(suite_of(suite, test_key()), other(sender_side(sample)));
    Bytes plaintext(crypto::CipherSuite::max_plaintext_size(bytes.size()));
    auto opened = opener.open(split->front(), plaintext);
    ASSERT_TRUE(opened.has_value()) << opened.error().reason();
    EXPECT_EQ(opened->body, sample.body);
    EXPECT_EQ(opened->header.type, sample.header.type);
}

TEST_P(SealedMessage, SealerAndOpenerRoundTrip) {
    const auto& [sample, suite] = GetParam();
    const Side side = sender_side(sample);
    Sealer sealer(suite_of(suite, test_key()), side);
    Opener opener(suite_of(suite, test_key()), other(side));
    for (std::uint32_t i = 1; i <= 3; ++i) {
        auto datagram = sealer.seal(sample.header, sample.body);
        ASSERT_TRUE(datagram.has_value()) << datagram.error().reason();
        const auto split = wire::split_datagram(*datagram);
        ASSERT_TRUE(split.has_value());
        EXPECT_EQ(split->front().header.sequence, i);
        Bytes plaintext(crypto::CipherSuite::max_plaintext_size(datagram->size()));
        auto opened = opener.open(split->front(), plaintext);
        ASSERT_TRUE(opened.has_value()) << opened.error().reason();
        EXPECT_EQ(opened->body, sample.body);
    }
    EXPECT_EQ(opener.replay_counters().accepted, 3U);
}

TEST_P(SealedMessage, EveryFlippedBitFailsAuthentication) {
    const auto& [sample, suite] = GetParam();
    Sealer sealer(suite_of(suite, test_key()), sender_side(sample));
    const auto datagram = sealer.seal(sample.header, sample.body);
    ASSERT_TRUE(datagram.has_value());
    for (std::size_t bit = 0; bit < datagram->size() * 8; ++bit) {
        Bytes bad = *datagram;
        bad[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
        const auto split = wire::split_datagram(bad);
        if (!split.has_value()) {
            continue;  // the header no longer parses: dropped before any key is used
        }
        Opener opener(suite_of(suite, test_key()), std::nullopt);
        Bytes plaintext(crypto::CipherSuite::max_plaintext_size(bad.size()));
        const auto opened = opener.open(split->front(), plaintext);
        ASSERT_FALSE(opened.has_value()) << "bit " << bit;
        EXPECT_EQ(opened.error().stage, ReceiveError::Stage::Open) << "bit " << bit;
    }
}

INSTANTIATE_TEST_SUITE_P(AllUdpMessagesAllSuites, SealedMessage, ::testing::ValuesIn(all_cases()));

TEST(GoldenSealed, EveryUdpMessageAndSuiteHasAFile) {
    std::size_t files = 0;
    for (const auto suite : kSuites) {
        const auto dir = golden::path("sealed/" + std::string(wire::to_string(suite)));
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            (void)e;
            ++files;
        }
    }
    EXPECT_EQ(files, 3 * udp_samples().size());
}

const samples::SampleMessage& keep_alive() {
    static const auto m = samples::sample_message(wire::MessageType::KeepAlive);
    return m;
}

TEST(Opener, DropsReplaysAndCountsThem) {
    Sealer sealer(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Clear);
    Opener opener(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Set);
    const auto datagram = sealer.seal(keep_alive().header, keep_alive().body);
    ASSERT_TRUE(datagram.has_value());
    const auto split = wire::split_datagram(*datagram);
    Bytes plaintext(crypto::CipherSuite::max_plaintext_size(datagram->size()));
    ASSERT_TRUE(opener.open(split->front(), plaintext).has_value());
    const auto again = opener.open(split->front(), plaintext);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().stage, ReceiveError::Stage::Replay);
    EXPECT_EQ(again.error().reason(), "replayed");
    EXPECT_EQ(opener.replay_counters().replayed, 1U);
}

TEST(Opener, DropsTooOldNumbers) {
    Sealer old_sealer(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Clear);
    Sealer new_sealer(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Clear, 5000);
    Opener opener(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Set);
    const auto old_message = old_sealer.seal(keep_alive().header, keep_alive().body);
    const auto new_message = new_sealer.seal(keep_alive().header, keep_alive().body);
    Bytes plaintext(256);
    ASSERT_TRUE(opener.open(wire::split_datagram(*new_message)->front(), plaintext).has_value());
    const auto stale = opener.open(wire::split_datagram(*old_message)->front(), plaintext);
    ASSERT_FALSE(stale.has_value());
    EXPECT_EQ(stale.error().reason(), "too_old");
}

TEST(Opener, DropsReflectedMessagesWithoutMarkingTheirNumber) {
    // A message the receiver's own side sent (D15), bounced back by an attacker.
    Sealer mine(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Set);
    Opener opener(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Set);
    const auto reflected = mine.seal(keep_alive().header, keep_alive().body);
    Bytes plaintext(256);
    const auto r = opener.open(wire::split_datagram(*reflected)->front(), plaintext);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().stage, ReceiveError::Stage::Reflected);
    EXPECT_EQ(opener.window(Side::Set).highest(), 0U);
    EXPECT_EQ(opener.window(Side::Clear).highest(), 0U);
}

TEST(Opener, RelayKeepsOneWindowPerSide) {
    // The TRS accepts both sides of a Tunnel Key; the same number from each side is new.
    Sealer initiator(suite_of(CipherSuiteId::ChaCha20Poly1305, test_key()), Side::Clear);
    Sealer responder(suite_of(CipherSuiteId::ChaCha20Poly1305, test_key()), Side::Set);
    Opener relay(suite_of(CipherSuiteId::ChaCha20Poly1305, test_key()), std::nullopt);
    Bytes plaintext(256);
    const auto a = initiator.seal(keep_alive().header, keep_alive().body);
    const auto b = responder.seal(keep_alive().header, keep_alive().body);
    EXPECT_TRUE(relay.open(wire::split_datagram(*a)->front(), plaintext).has_value());
    EXPECT_TRUE(relay.open(wire::split_datagram(*b)->front(), plaintext).has_value());
    EXPECT_EQ(relay.window(Side::Clear).highest(), 1U);
    EXPECT_EQ(relay.window(Side::Set).highest(), 1U);
}

TEST(Opener, WrongKeyFailsAuthentication) {
    Bytes other_key = test_key();
    other_key[0] ^= std::byte{1};
    Sealer sealer(suite_of(CipherSuiteId::AesCbcHmacMd5, other_key), Side::Clear);
    Opener opener(suite_of(CipherSuiteId::AesCbcHmacMd5, test_key()), Side::Set);
    const auto m = sealer.seal(keep_alive().header, keep_alive().body);
    Bytes plaintext(256);
    const auto r = opener.open(wire::split_datagram(*m)->front(), plaintext);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().open, crypto::OpenError::BadMac);
}

// D9/C21: several messages of different identities in one datagram, each authenticated on its
// own; a bad one is dropped alone and loses nothing of the others.
TEST(CountFraming, EachMessageOfADatagramOpensOnItsOwn) {
    Bytes datagram;
    std::vector<Bytes> keys;
    for (int i = 0; i < 3; ++i) {
        Bytes k = test_key();
        k[31] = static_cast<std::byte>(i);
        keys.push_back(k);
        Sealer sealer(suite_of(CipherSuiteId::Aes256Gcm, k), Side::Clear);
        wire::BaseHeader h = keep_alive().header;
        h.count = i == 0 ? 2 : 0;
        h.id[0] = static_cast<std::byte>(i);
        const auto m = sealer.seal(h, wire::EmptyBody{});
        ASSERT_TRUE(m.has_value());
        Bytes part = *m;
        if (i == 1) {
            part.back() ^= std::byte{1};  // the middle one is corrupted in transit
        }
        datagram.insert(datagram.end(), part.begin(), part.end());
    }
    const auto split = wire::split_datagram(datagram);
    ASSERT_TRUE(split.has_value()) << wire::to_string(split.error());
    ASSERT_EQ(split->size(), 3U);
    Bytes plaintext(256);
    for (int i = 0; i < 3; ++i) {
        Opener opener(suite_of(CipherSuiteId::Aes256Gcm, keys[static_cast<std::size_t>(i)]),
                      Side::Set);
        const auto r = opener.open((*split)[static_cast<std::size_t>(i)], plaintext);
        EXPECT_EQ(r.has_value(), i != 1) << i;
    }
}

TEST(Sealer, RefusesToWrapTheCounter) {
    Sealer sealer(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Clear, UINT32_MAX);
    EXPECT_TRUE(sealer.seal(keep_alive().header, keep_alive().body).has_value());
    const auto again = sealer.seal(keep_alive().header, keep_alive().body);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().kind, SendError::Kind::KeyExhausted);
}

TEST(Sealer, RefusesABodyOfAnotherType) {
    Sealer sealer(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Clear);
    const auto r = sealer.seal(keep_alive().header, wire::RegistrationResponse{true});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, SendError::Kind::BodyMismatch);
}

TEST(Sealer, SetsSenderSideFromItsSide) {
    Sealer set(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Set);
    Sealer clear(suite_of(CipherSuiteId::Aes256Gcm, test_key()), Side::Clear);
    wire::BaseHeader h = keep_alive().header;
    h.flags = wire::flag::kSenderSide;
    EXPECT_FALSE(wire::split_datagram(*clear.seal(h, wire::EmptyBody{}))
                     ->front()
                     .header.has(wire::flag::kSenderSide));
    h.flags = 0;
    EXPECT_TRUE(wire::split_datagram(*set.seal(h, wire::EmptyBody{}))
                    ->front()
                    .header.has(wire::flag::kSenderSide));
}

}  // namespace
}  // namespace cyphonic::signaling
