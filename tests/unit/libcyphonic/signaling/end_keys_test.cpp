#include "cyphonic/signaling/end_keys.hpp"

#include <gtest/gtest.h>

#include "cyphonic/crypto/random.hpp"
#include "cyphonic/signaling/sealed_message.hpp"

namespace cyphonic::signaling {
namespace {

using wire::CipherSuiteId;

constexpr std::array<CipherSuiteId, 3> kSuites = {
    CipherSuiteId::AesCbcHmacMd5, CipherSuiteId::Aes256Gcm, CipherSuiteId::ChaCha20Poly1305};

Bytes bytes_of(const crypto::Key& k) {
    return {k.view().begin(), k.view().end()};
}

crypto::CipherSuite suite(CipherSuiteId id, const crypto::Key& key) {
    auto s = crypto::CipherSuite::create(id, key);
    EXPECT_TRUE(s.has_value());
    return std::move(*s);
}

class EndKeys : public ::testing::TestWithParam<CipherSuiteId> {
protected:
    PathId path = crypto::random_id<PathIdTag>();
    crypto::Key initiator_key = crypto::random_key();
    crypto::Key responder_key = crypto::random_key();
    crypto::Key temp_key = crypto::random_key();
};

TEST_P(EndKeys, DirectResponseWithEndKeyGivesTheResponderKey) {
    const wire::TunnelResponse response{bytes_of(responder_key)};
    auto key = responder_to_initiator_key(response, false, nullptr, path, initiator_key);
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(bytes_of(*key), bytes_of(responder_key));
}

TEST_P(EndKeys, ResponseWithoutEndKeyGivesTheInitiatorKeyDirectAndRelayed) {
    auto temp = suite(GetParam(), temp_key);
    for (const bool relayed : {false, true}) {
        const wire::TunnelResponse response{std::nullopt};
        auto key = responder_to_initiator_key(response, relayed, relayed ? &temp : nullptr, path,
                                              initiator_key);
        ASSERT_TRUE(key.has_value()) << relayed;
        EXPECT_EQ(bytes_of(*key), bytes_of(initiator_key)) << relayed;
    }
}

TEST_P(EndKeys, RelayedResponseIsUnwrappedWithTheResponderRole) {
    auto temp = suite(GetParam(), temp_key);
    auto wrapped = temp.wrap_key(responder_key, path, crypto::WrapRole::Responder);
    ASSERT_TRUE(wrapped.has_value());
    auto key = responder_to_initiator_key(wire::TunnelResponse{*wrapped}, true, &temp, path,
                                          initiator_key);
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(bytes_of(*key), bytes_of(responder_key));
    // Wrapped for the other role, or for another path: refused, not misread.
    auto as_initiator = temp.wrap_key(responder_key, path, crypto::WrapRole::Initiator);
    ASSERT_TRUE(as_initiator.has_value());
    auto refused = responder_to_initiator_key(wire::TunnelResponse{*as_initiator}, true, &temp,
                                              path, initiator_key);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), EndKeyError::BadWrappedKey);
    auto other_path = responder_to_initiator_key(wire::TunnelResponse{*wrapped}, true, &temp,
                                                 crypto::random_id<PathIdTag>(), initiator_key);
    ASSERT_FALSE(other_path.has_value());
    EXPECT_EQ(other_path.error(), EndKeyError::BadWrappedKey);
}

TEST_P(EndKeys, MalformedEndKeysAreRefusedWithTheirReason) {
    auto temp = suite(GetParam(), temp_key);
    for (const std::size_t size : {0U, 1U, 31U, 33U, 64U}) {
        const Bytes field(size, std::byte{7});
        auto direct = read_end_key(field, false, nullptr, path, crypto::WrapRole::Initiator);
        ASSERT_FALSE(direct.has_value()) << size;
        EXPECT_EQ(direct.error(), EndKeyError::BadEndKey);
        auto relayed = read_end_key(field, true, &temp, path, crypto::WrapRole::Initiator);
        ASSERT_FALSE(relayed.has_value()) << size;
        EXPECT_EQ(relayed.error(), EndKeyError::BadWrappedKey);
    }
    auto no_temp =
        read_end_key(bytes_of(initiator_key), true, nullptr, path, crypto::WrapRole::Initiator);
    ASSERT_FALSE(no_temp.has_value());
    EXPECT_EQ(no_temp.error(), EndKeyError::NoTempKey);
    EXPECT_EQ(to_string(EndKeyError::BadEndKey), "bad_end_key");
    EXPECT_EQ(to_string(EndKeyError::BadWrappedKey), "bad_wrapped_key");
    EXPECT_EQ(to_string(EndKeyError::NoTempKey), "no_temp_key");
}

// One key in both directions (D14 without K_R): the side flag keeps each direction apart, so a
// Capsule reflected back to its sender is refused (D15).
TEST_P(EndKeys, OneKeyBothWaysStillRefusesReflectedMessages) {
    const wire::TunnelResponse response{std::nullopt};
    auto rx_key = responder_to_initiator_key(response, false, nullptr, path, initiator_key);
    ASSERT_TRUE(rx_key.has_value());
    Sealer initiator_tx(suite(GetParam(), initiator_key), Side::Clear);
    Opener initiator_rx(suite(GetParam(), *rx_key), Side::Clear);
    Sealer responder_tx(suite(GetParam(), initiator_key), Side::Set);
    Opener responder_rx(suite(GetParam(), initiator_key), Side::Set);

    wire::BaseHeader h;
    h.type = wire::MessageType::HolePunching;
    h.set_id(path);
    const wire::Body empty = wire::EmptyBody{};
    auto from_initiator = initiator_tx.seal(h, empty);
    auto from_responder = responder_tx.seal(h, empty);
    ASSERT_TRUE(from_initiator.has_value());
    ASSERT_TRUE(from_responder.has_value());
    auto open = [](Opener& o, const Bytes& datagram) {
        auto messages = wire::split_datagram(datagram);
        EXPECT_TRUE(messages.has_value());
        Bytes plain(datagram.size());
        return o.open(messages->front(), plain).has_value();
    };
    EXPECT_TRUE(open(responder_rx, *from_initiator));
    EXPECT_TRUE(open(initiator_rx, *from_responder));
    EXPECT_FALSE(open(initiator_rx, *from_initiator));  // reflected to its sender
    EXPECT_FALSE(open(responder_rx, *from_responder));
}

INSTANTIATE_TEST_SUITE_P(AllSuites, EndKeys, ::testing::ValuesIn(kSuites));

}  // namespace
}  // namespace cyphonic::signaling
