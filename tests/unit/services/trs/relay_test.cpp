#include "relay.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cyphonic/app/metrics.hpp"
#include "cyphonic/crypto/cipher_suite.hpp"
#include "cyphonic/crypto/random.hpp"
#include "cyphonic/signaling/sealed_message.hpp"

namespace cyphonic::trs {
namespace {

using signaling::Opener;
using signaling::Sealer;
using signaling::Side;
using wire::CipherSuiteId;
using wire::MessageType;
using namespace std::chrono_literals;

crypto::CipherSuite suite(CipherSuiteId id, const crypto::Key& key) {
    auto s = crypto::CipherSuite::create(id, key);
    EXPECT_TRUE(s.has_value());
    return std::move(*s);
}

Endpoint ep(const char* text) {
    auto e = Endpoint::parse(text);
    EXPECT_TRUE(e.has_value()) << text;
    return *e;
}

Bytes concat(std::initializer_list<ByteView> parts) {
    Bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

struct Sent {
    Endpoint to;
    Bytes bytes;
};

// One end of a path, sealing as a node would (initiator: SENDER_SIDE clear; responder: set).
struct End {
    End(CipherSuiteId id, const crypto::Key& tunnel_key, Side own_side, Endpoint source)
        : sealer(suite(id, tunnel_key), own_side),
          opener(suite(id, tunnel_key), own_side),
          side(own_side),
          at(source) {}

    Bytes seal(MessageType type, const wire::Body& body, const PathId& path,
               std::uint8_t flags = wire::flag::kRelayed, std::uint8_t count = 0) {
        wire::BaseHeader h;
        h.transaction_id = 0x11223344;
        h.type = type;
        h.flags = flags;
        h.count = count;
        h.set_id(path);
        auto sealed = sealer.seal(h, body);
        EXPECT_TRUE(sealed.has_value());
        return std::move(*sealed);
    }

    Sealer sealer;
    Opener opener;
    Side side;
    Endpoint at;
};

class TrsRelayTest : public ::testing::TestWithParam<CipherSuiteId> {
protected:
    TrsRelayTest() { reset(); }

    void reset(std::size_t max_entries = 100, std::chrono::seconds idle = 120s,
               std::uint32_t first_sequence = 1) {
        RelayOptions o;
        o.first_sequence = first_sequence;
        o.trs_id = trs_id_;
        o.service_keys.push_back({nms_id_, CipherSuiteId::Aes256Gcm, service_key_.clone()});
        o.max_entries = max_entries;
        o.idle_timeout = idle;
        auto r = Relay::create(std::move(o), metrics_);
        ASSERT_TRUE(r.has_value()) << r.error();
        relay_.emplace(std::move(*r));
    }

    std::vector<Sent> send(ByteView datagram, const Endpoint& from) {
        std::vector<Outgoing> out;
        relay_->on_datagram(datagram, from, now_, out);
        std::vector<Sent> copied;
        copied.reserve(out.size());
        for (const auto& o : out) {
            copied.push_back({o.to, Bytes(o.bytes.begin(), o.bytes.end())});
        }
        return copied;
    }

    Bytes relay_request(const PathId& path, CipherSuiteId cipher, const crypto::Key& key,
                        std::uint32_t txid, Sealer* sealer = nullptr,
                        std::optional<NodeId> id = std::nullopt) {
        wire::BaseHeader h;
        h.transaction_id = txid;
        h.type = MessageType::RelayRequest;
        h.set_id(id.value_or(nms_id_));
        wire::Relay body;
        body.path_id = path;
        body.cipher = cipher;
        std::copy(key.view().begin(), key.view().end(), body.tunnel_key.begin());
        auto sealed = (sealer != nullptr ? *sealer : nms_sealer_).seal(h, body);
        EXPECT_TRUE(sealed.has_value());
        return std::move(*sealed);
    }

    // Opens what the TRS answered the NMS.
    signaling::OpenedMessage open_answer(const Bytes& datagram) {
        auto split = wire::split_datagram(datagram);
        EXPECT_TRUE(split.has_value());
        EXPECT_EQ(split->size(), 1U);
        Bytes plain(datagram.size());
        auto opened = nms_opener_.open(split->front(), plain);
        EXPECT_TRUE(opened.has_value()) << (opened ? "" : opened.error().reason());
        return std::move(*opened);
    }

    // A Relay Request for path_ accepted and answered.
    void create_path(const PathId& path) {
        const auto out = send(relay_request(path, GetParam(), tunnel_key_, next_txid_++), nms_);
        ASSERT_EQ(out.size(), 1U);
        ASSERT_EQ(open_answer(out[0].bytes).header.type, MessageType::RelayResponse);
    }

    // Both ends bind their slots with Hole Punching.
    void bind_both() {
        EXPECT_TRUE(
            send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).empty());
        EXPECT_EQ(send(b_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), b_.at).size(),
                  1U);
    }

    std::uint64_t dropped(DropReason r) const { return metrics_.dropped_count(r); }

    NodeId trs_id_ = crypto::random_id<NodeIdTag>();
    NodeId nms_id_ = crypto::random_id<NodeIdTag>();
    crypto::Key service_key_ = crypto::random_key();
    crypto::Key tunnel_key_ = crypto::random_key();
    PathId path_ = crypto::random_id<PathIdTag>();
    app::MetricsRegistry registry_;
    TrsMetrics metrics_{registry_};
    std::optional<Relay> relay_;
    Sealer nms_sealer_{suite(CipherSuiteId::Aes256Gcm, service_key_), Side::Set};
    Opener nms_opener_{suite(CipherSuiteId::Aes256Gcm, service_key_), Side::Set};
    Endpoint nms_ = ep("10.0.0.1:4600");
    End a_{GetParam(), tunnel_key_, Side::Clear, ep("192.0.2.1:4800")};
    End b_{GetParam(), tunnel_key_, Side::Set, ep("[2001:db8::2]:4801")};
    TimePoint now_ = TimePoint{} + 1000s;
    std::uint32_t next_txid_ = 1;
};

// --- Relay Request ---------------------------------------------------------------------------

TEST_P(TrsRelayTest, RelayRequestCreatesEntryAndAnswersWithSealedRelayResponse) {
    const auto out = send(relay_request(path_, GetParam(), tunnel_key_, 0xabcd0001), nms_);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].to, nms_);
    const auto answer = open_answer(out[0].bytes);
    EXPECT_EQ(answer.header.type, MessageType::RelayResponse);
    EXPECT_EQ(answer.header.transaction_id, 0xabcd0001U);
    EXPECT_TRUE(answer.header.has(wire::flag::kSuccess | wire::flag::kResponse));
    EXPECT_FALSE(answer.header.has(wire::flag::kSenderSide));  // the TRS side is clear (D15)
    EXPECT_EQ(answer.header.node_id(), trs_id_);
    const auto& body = std::get<wire::Relay>(answer.body);
    EXPECT_EQ(body.path_id, path_);
    EXPECT_EQ(body.cipher, GetParam());
    EXPECT_TRUE(
        std::equal(body.tunnel_key.begin(), body.tunnel_key.end(), tunnel_key_.view().begin()));
    EXPECT_EQ(relay_->table().size(), 1U);
    EXPECT_EQ(metrics_.request_count(MessageType::RelayRequest, RequestResult::Answered), 1U);
    EXPECT_EQ(metrics_.active_paths(), 1);
}

TEST_P(TrsRelayTest, AnswersStartAtTheGivenSequenceNumber) {
    reset(100, 120s, initial_sequence(1'800'000'000));
    const auto out = send(relay_request(path_, GetParam(), tunnel_key_, 1), nms_);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(open_answer(out[0].bytes).header.sequence, 400'000'000U);
}

TEST(TrsInitialSequence, RisesFourPerSecondSince2023AndIsNeverZero) {
    EXPECT_EQ(initial_sequence(0), 1U);
    EXPECT_EQ(initial_sequence(1'700'000'000), 1U);
    EXPECT_EQ(initial_sequence(1'700'000'001), 4U);
    EXPECT_EQ(initial_sequence(1'800'000'000), 400'000'000U);
    EXPECT_EQ(initial_sequence(2'769'547'520), 4'278'190'080U);  // 2^24 below the wrap
    EXPECT_EQ(initial_sequence(2'769'547'521), 1U);
    EXPECT_EQ(initial_sequence(2'800'000'000), 1U);  // out of range: no headroom left
    EXPECT_EQ(initial_sequence(std::numeric_limits<std::int64_t>::max()), 1U);
    EXPECT_EQ(initial_sequence(std::numeric_limits<std::int64_t>::min()), 1U);
}

TEST_P(TrsRelayTest, DuplicateRelayRequestGetsCachedAnswerResealedAndChangesNothing) {
    const auto first = send(relay_request(path_, GetParam(), tunnel_key_, 77), nms_);
    ASSERT_EQ(first.size(), 1U);
    const auto first_answer = open_answer(first[0].bytes);
    bind_both();
    // A retransmission: same Transaction ID, new Sequence Number (D19); even with another key
    // in it the cached answer is what comes back, and the entry (with its slots) stays.
    const auto other_key = crypto::random_key();
    const auto again = send(relay_request(path_, GetParam(), other_key, 77), nms_);
    ASSERT_EQ(again.size(), 1U);
    EXPECT_NE(again[0].bytes, first[0].bytes);
    const auto second_answer = open_answer(again[0].bytes);  // not a replay at the NMS (D18)
    EXPECT_GT(second_answer.header.sequence, first_answer.header.sequence);
    EXPECT_EQ(second_answer.header.transaction_id, 77U);
    EXPECT_EQ(second_answer.body, first_answer.body);
    EXPECT_EQ(relay_->slot(path_, Side::Clear), a_.at);
    EXPECT_EQ(relay_->slot(path_, Side::Set), b_.at);
    EXPECT_EQ(metrics_.request_count(MessageType::RelayRequest, RequestResult::Duplicate), 1U);
    // The old Tunnel Key is still the one in force.
    EXPECT_EQ(send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).size(), 1U);
}

TEST_P(TrsRelayTest, RelayRequestForKnownPathReplacesEntry) {
    create_path(path_);
    bind_both();
    const auto new_key = crypto::random_key();
    const auto out = send(relay_request(path_, GetParam(), new_key, 1000), nms_);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(relay_->table().size(), 1U);
    EXPECT_FALSE(relay_->slot(path_, Side::Clear));
    EXPECT_FALSE(relay_->slot(path_, Side::Set));
    // Messages under the old key no longer verify; under the new one they do.
    EXPECT_TRUE(send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).empty());
    EXPECT_EQ(dropped(DropReason::BadMac), 1U);
    End a2(GetParam(), new_key, Side::Clear, a_.at);
    EXPECT_TRUE(send(a2.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).empty());
    EXPECT_EQ(relay_->slot(path_, Side::Clear), a_.at);
}

TEST_P(TrsRelayTest, RelayRequestUnderWrongServiceKeyIsDroppedWithoutAnswer) {
    Sealer wrong(suite(CipherSuiteId::Aes256Gcm, crypto::random_key()), Side::Set);
    EXPECT_TRUE(send(relay_request(path_, GetParam(), tunnel_key_, 1, &wrong), nms_).empty());
    EXPECT_EQ(relay_->table().size(), 0U);
    EXPECT_EQ(dropped(DropReason::BadMac), 1U);
    EXPECT_EQ(metrics_.request_count(MessageType::RelayRequest, RequestResult::Dropped), 1U);
}

TEST_P(TrsRelayTest, RelayRequestFromUnknownNmsIsDropped) {
    const auto stranger = crypto::random_id<NodeIdTag>();
    EXPECT_TRUE(
        send(relay_request(path_, GetParam(), tunnel_key_, 1, nullptr, stranger), nms_).empty());
    EXPECT_EQ(relay_->table().size(), 0U);
    EXPECT_EQ(dropped(DropReason::UnknownNms), 1U);
}

TEST_P(TrsRelayTest, ReflectedRelayRequestIsDropped) {
    // Sealed with SENDER_SIDE clear: what the TRS itself sends under this key (D15).
    Sealer reflected(suite(CipherSuiteId::Aes256Gcm, service_key_), Side::Clear);
    EXPECT_TRUE(send(relay_request(path_, GetParam(), tunnel_key_, 1, &reflected), nms_).empty());
    EXPECT_EQ(relay_->table().size(), 0U);
    EXPECT_EQ(dropped(DropReason::Reflected), 1U);
}

TEST_P(TrsRelayTest, ReplayedRelayRequestIsDroppedAndDoesNotRestoreOldKey) {
    const auto first = relay_request(path_, GetParam(), tunnel_key_, 1);
    ASSERT_EQ(send(first, nms_).size(), 1U);
    const auto new_key = crypto::random_key();
    ASSERT_EQ(send(relay_request(path_, GetParam(), new_key, 2), nms_).size(), 1U);
    End a2(GetParam(), new_key, Side::Clear, a_.at);
    EXPECT_TRUE(send(a2.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).empty());
    ASSERT_EQ(relay_->slot(path_, Side::Clear), a_.at);

    EXPECT_TRUE(send(first, nms_).empty());
    EXPECT_EQ(dropped(DropReason::Replayed), 1U);
    EXPECT_EQ(relay_->slot(path_, Side::Clear), a_.at);  // not replaced
    EXPECT_TRUE(send(a2.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).empty());
    EXPECT_EQ(dropped(DropReason::BadMac), 0U);
}

TEST_P(TrsRelayTest, FullTableAnswersRelayUnavailableButStillReplacesKnownPaths) {
    reset(1);
    create_path(path_);
    const auto other_path = crypto::random_id<PathIdTag>();
    const auto out = send(relay_request(other_path, GetParam(), tunnel_key_, 50), nms_);
    ASSERT_EQ(out.size(), 1U);
    const auto answer = open_answer(out[0].bytes);
    EXPECT_EQ(answer.header.type, MessageType::Error);
    EXPECT_TRUE(answer.header.has(wire::flag::kResponse));
    EXPECT_FALSE(answer.header.has(wire::flag::kSuccess));
    EXPECT_EQ(answer.header.node_id(), trs_id_);
    EXPECT_EQ(answer.header.transaction_id, 50U);
    EXPECT_EQ(std::get<wire::Error>(answer.body).error_code(), wire::ErrorCode::RelayUnavailable);
    EXPECT_EQ(dropped(DropReason::TableFull), 1U);
    EXPECT_EQ(metrics_.request_count(MessageType::RelayRequest, RequestResult::Rejected), 1U);
    EXPECT_EQ(relay_->table().size(), 1U);
    EXPECT_FALSE(relay_->table().peek(other_path));
    create_path(path_);  // a known PathID is replaced even when the table is full
}

TEST_P(TrsRelayTest, FullTableMakesRoomFromIdleEntries) {
    reset(1, 10s);
    create_path(path_);
    now_ += 10s;
    create_path(crypto::random_id<PathIdTag>());
    EXPECT_EQ(relay_->table().size(), 1U);
    EXPECT_FALSE(relay_->table().peek(path_));
}

TEST_P(TrsRelayTest, AfterStopAcceptingNewRequestsAreRefusedButPathsKeepWorking) {
    create_path(path_);
    bind_both();
    relay_->stop_accepting();
    const auto out =
        send(relay_request(crypto::random_id<PathIdTag>(), GetParam(), tunnel_key_, 9), nms_);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(std::get<wire::Error>(open_answer(out[0].bytes).body).error_code(),
              wire::ErrorCode::RelayUnavailable);
    EXPECT_EQ(dropped(DropReason::ShuttingDown), 1U);
    EXPECT_EQ(send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).size(), 1U);
}

// --- Path messages ----------------------------------------------------------------------------

TEST_P(TrsRelayTest, HolePunchingBindsEachSideAndIsForwardedVerbatim) {
    create_path(path_);
    const auto from_a = a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_);
    EXPECT_TRUE(send(from_a, a_.at).empty());  // B's slot is still empty
    EXPECT_EQ(dropped(DropReason::OtherSlotEmpty), 1U);
    EXPECT_EQ(relay_->slot(path_, Side::Clear), a_.at);
    EXPECT_FALSE(relay_->slot(path_, Side::Set));

    const auto from_b = b_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_);
    const auto out = send(from_b, b_.at);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].to, a_.at);
    EXPECT_EQ(out[0].bytes, from_b);
    EXPECT_EQ(relay_->slot(path_, Side::Set), b_.at);

    // A receives it as B sent it: it opens under the Tunnel Key at A (D17), and A's ACK goes
    // back the same way.
    auto split = wire::split_datagram(out[0].bytes);
    ASSERT_TRUE(split.has_value());
    Bytes plain(out[0].bytes.size());
    EXPECT_TRUE(a_.opener.open(split->front(), plain).has_value());
    const auto ack = a_.seal(MessageType::Ack, wire::EmptyBody{}, path_,
                             wire::flag::kRelayed | wire::flag::kSuccess | wire::flag::kResponse);
    const auto acked = send(ack, a_.at);
    ASSERT_EQ(acked.size(), 1U);
    EXPECT_EQ(acked[0].to, b_.at);
    EXPECT_EQ(acked[0].bytes, ack);
    EXPECT_EQ(metrics_.forwarded_count(MessageType::HolePunching), 1U);
    EXPECT_EQ(metrics_.forwarded_count(MessageType::Ack), 1U);
    EXPECT_EQ(metrics_.forwarded_bytes(), from_b.size() + ack.size());
}

TEST_P(TrsRelayTest, TunnelRequestAndResponseWithWrappedEndKeysAreForwardedVerbatim) {
    create_path(path_);
    bind_both();
    auto temp = suite(GetParam(), crypto::random_key());
    const auto end_key_i = crypto::random_key();
    const auto end_key_r = crypto::random_key();
    auto wrapped_i = temp.wrap_key(end_key_i, path_, crypto::WrapRole::Initiator);
    auto wrapped_r = temp.wrap_key(end_key_r, path_, crypto::WrapRole::Responder);
    ASSERT_TRUE(wrapped_i.has_value() && wrapped_r.has_value());

    const auto request =
        a_.seal(MessageType::TunnelRequest, wire::TunnelRequest{*wrapped_i}, path_);
    auto out = send(request, a_.at);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].to, b_.at);
    EXPECT_EQ(out[0].bytes, request);

    const auto response =
        b_.seal(MessageType::TunnelResponse, wire::TunnelResponse{*wrapped_r}, path_,
                wire::flag::kRelayed | wire::flag::kSuccess | wire::flag::kResponse);
    out = send(response, b_.at);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].to, a_.at);
    EXPECT_EQ(out[0].bytes, response);

    const auto empty_response =
        b_.seal(MessageType::TunnelResponse, wire::TunnelResponse{}, path_,
                wire::flag::kRelayed | wire::flag::kSuccess | wire::flag::kResponse);
    EXPECT_EQ(send(empty_response, b_.at).size(), 1U);
    EXPECT_EQ(metrics_.forwarded_count(MessageType::TunnelRequest), 1U);
    EXPECT_EQ(metrics_.forwarded_count(MessageType::TunnelResponse), 2U);
}

TEST_P(TrsRelayTest, PlainEndKeyIsNotRelayedAndDoesNotBind) {
    create_path(path_);
    ASSERT_TRUE(send(b_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), b_.at).empty());
    const auto end_key = crypto::random_key();
    const Bytes plain(end_key.view().begin(), end_key.view().end());
    // RELAYED clear (direct form), and RELAYED set but with a 32-byte key.
    EXPECT_TRUE(
        send(a_.seal(MessageType::TunnelRequest, wire::TunnelRequest{plain}, path_, 0), a_.at)
            .empty());
    EXPECT_TRUE(send(a_.seal(MessageType::TunnelRequest, wire::TunnelRequest{plain}, path_), a_.at)
                    .empty());
    EXPECT_EQ(dropped(DropReason::EndKeyNotWrapped), 2U);
    EXPECT_FALSE(relay_->slot(path_, Side::Clear));
}

TEST_P(TrsRelayTest, ReplayedPathMessageIsDropped) {
    create_path(path_);
    bind_both();
    const auto hp = a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_);
    EXPECT_EQ(send(hp, a_.at).size(), 1U);
    EXPECT_TRUE(send(hp, a_.at).empty());
    EXPECT_EQ(dropped(DropReason::Replayed), 1U);
    // The sides have their own windows: B's first numbers are not A's.
    EXPECT_EQ(send(b_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), b_.at).size(), 1U);
}

TEST_P(TrsRelayTest, MessageUnderWrongTunnelKeyIsDroppedAndDoesNotBind) {
    create_path(path_);
    End impostor(GetParam(), crypto::random_key(), Side::Clear, ep("203.0.113.9:5000"));
    EXPECT_TRUE(
        send(impostor.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), impostor.at)
            .empty());
    EXPECT_EQ(dropped(DropReason::BadMac), 1U);
    EXPECT_FALSE(relay_->slot(path_, Side::Clear));
    EXPECT_FALSE(relay_->slot(path_, Side::Set));
}

TEST_P(TrsRelayTest, PathMessageForUnknownPathIsDropped) {
    create_path(path_);
    const auto elsewhere = crypto::random_id<PathIdTag>();
    EXPECT_TRUE(
        send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, elsewhere), a_.at).empty());
    EXPECT_TRUE(send(a_.seal(MessageType::Ack, wire::EmptyBody{}, elsewhere), a_.at).empty());
    EXPECT_EQ(dropped(DropReason::UnknownId), 2U);
}

TEST_P(TrsRelayTest, AckWithNmsIdIsUnexpected) {
    wire::BaseHeader h;
    h.type = MessageType::Ack;
    h.flags = wire::flag::kResponse | wire::flag::kSuccess;
    h.set_id(nms_id_);
    const auto ack = nms_sealer_.seal(h, wire::EmptyBody{});
    ASSERT_TRUE(ack.has_value());
    EXPECT_TRUE(send(*ack, nms_).empty());
    EXPECT_EQ(dropped(DropReason::UnexpectedType), 1U);
}

TEST_P(TrsRelayTest, NodeToNmsTypesAreUnexpected) {
    create_path(path_);
    EXPECT_TRUE(send(a_.seal(MessageType::KeepAlive, wire::EmptyBody{}, path_), a_.at).empty());
    EXPECT_EQ(dropped(DropReason::UnexpectedType), 1U);
    EXPECT_FALSE(relay_->slot(path_, Side::Clear));
}

// --- Capsules ---------------------------------------------------------------------------------

// A Capsule as an end sends it: sealed with an End Key the TRS never has.
Bytes capsule(End& end, const crypto::Key& end_key, const PathId& path, std::size_t size,
              std::uint8_t count = 0) {
    Sealer sealer(suite(end.sealer.suite().id(), end_key), end.side);
    Bytes payload(size);
    crypto::random_bytes(payload);
    wire::BaseHeader h;
    h.type = MessageType::Capsule;
    h.flags = wire::flag::kRelayed;
    h.count = count;
    h.set_id(path);
    auto sealed = sealer.seal(h, wire::Capsule{payload});
    EXPECT_TRUE(sealed.has_value());
    return std::move(*sealed);
}

TEST_P(TrsRelayTest, CapsuleFromBoundSlotIsForwardedToTheOtherSlot) {
    create_path(path_);
    bind_both();
    const auto end_key = crypto::random_key();
    const auto from_a = capsule(a_, end_key, path_, 1200);
    auto out = send(from_a, a_.at);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].to, b_.at);
    EXPECT_EQ(out[0].bytes, from_a);
    const auto from_b = capsule(b_, end_key, path_, 40);
    out = send(from_b, b_.at);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].to, a_.at);
    EXPECT_EQ(out[0].bytes, from_b);
    EXPECT_EQ(metrics_.forwarded_count(MessageType::Capsule), 2U);
}

TEST_P(TrsRelayTest, CapsuleFromUnboundSourceIsDropped) {
    create_path(path_);
    bind_both();
    const auto end_key = crypto::random_key();
    EXPECT_TRUE(send(capsule(a_, end_key, path_, 100), ep("198.51.100.7:4800")).empty());
    // From B's endpoint but claiming A's side: not B's to send.
    EXPECT_TRUE(send(capsule(a_, end_key, path_, 100), b_.at).empty());
    EXPECT_EQ(dropped(DropReason::UnboundSource), 2U);
    // Unknown PathID.
    EXPECT_TRUE(send(capsule(a_, end_key, crypto::random_id<PathIdTag>(), 100), a_.at).empty());
    EXPECT_EQ(dropped(DropReason::UnknownId), 1U);
}

TEST_P(TrsRelayTest, CapsuleBeforeOtherSideBoundIsDropped) {
    create_path(path_);
    EXPECT_TRUE(send(capsule(a_, crypto::random_key(), path_, 100), a_.at).empty());
    EXPECT_EQ(dropped(DropReason::UnboundSource), 1U);
    ASSERT_TRUE(send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).empty());
    EXPECT_TRUE(send(capsule(a_, crypto::random_key(), path_, 100), a_.at).empty());
    EXPECT_EQ(dropped(DropReason::OtherSlotEmpty), 2U);  // the Hole Punching and the Capsule
}

TEST_P(TrsRelayTest, VerifiedMessageFromNewSourceMovesTheSlot) {
    create_path(path_);
    bind_both();
    const Endpoint moved = ep("192.0.2.1:61000");  // A's NAT picked a new port
    EXPECT_EQ(send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), moved).size(), 1U);
    EXPECT_EQ(relay_->slot(path_, Side::Clear), moved);
    const auto end_key = crypto::random_key();
    EXPECT_TRUE(send(capsule(a_, end_key, path_, 64), a_.at).empty());  // the old one is gone
    EXPECT_EQ(send(capsule(a_, end_key, path_, 64), moved).size(), 1U);
    const auto back = send(capsule(b_, end_key, path_, 64), b_.at);
    ASSERT_EQ(back.size(), 1U);
    EXPECT_EQ(back[0].to, moved);
}

TEST_P(TrsRelayTest, ReplayFromNewSourceMovesNoSlot) {
    create_path(path_);
    const auto hp_a = a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_);
    const auto hp_b = b_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_);
    ASSERT_TRUE(send(hp_a, a_.at).empty());
    ASSERT_EQ(send(hp_b, b_.at).size(), 1U);
    const Endpoint attacker = ep("203.0.113.66:4444");
    EXPECT_TRUE(send(hp_a, attacker).empty());
    EXPECT_TRUE(send(hp_b, attacker).empty());
    EXPECT_EQ(dropped(DropReason::Replayed), 2U);
    EXPECT_EQ(relay_->slot(path_, Side::Clear), a_.at);
    EXPECT_EQ(relay_->slot(path_, Side::Set), b_.at);
    // A message of one side can never bind the other side's slot: SENDER_SIDE is authenticated.
    auto flipped = hp_a;
    flipped[5] ^= std::byte{wire::flag::kSenderSide};
    EXPECT_TRUE(send(flipped, attacker).empty());
    EXPECT_EQ(relay_->slot(path_, Side::Set), b_.at);
    EXPECT_TRUE(send(capsule(a_, crypto::random_key(), path_, 64), attacker).empty());
}

// --- Time --------------------------------------------------------------------------------------

TEST_P(TrsRelayTest, IdleEntriesExpire) {
    reset(100, 120s);
    create_path(path_);
    bind_both();
    now_ += 119s;
    EXPECT_EQ(relay_->sweep(now_), 0U);
    // Traffic keeps it: a relayed Capsule counts as activity.
    EXPECT_EQ(send(capsule(a_, crypto::random_key(), path_, 64), a_.at).size(), 1U);
    now_ += 119s;
    EXPECT_EQ(relay_->sweep(now_), 0U);
    EXPECT_EQ(relay_->table().size(), 1U);
    now_ += 1s;
    EXPECT_EQ(relay_->sweep(now_), 1U);
    EXPECT_EQ(relay_->table().size(), 0U);
    EXPECT_EQ(metrics_.active_paths(), 0);
    EXPECT_TRUE(send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).empty());
    EXPECT_EQ(dropped(DropReason::UnknownId), 1U);
}

TEST_P(TrsRelayTest, IdleEntryIsGoneEvenBeforeTheSweep) {
    reset(100, 120s);
    create_path(path_);
    bind_both();
    now_ += 120s;
    EXPECT_TRUE(send(capsule(a_, crypto::random_key(), path_, 64), a_.at).empty());
    EXPECT_EQ(dropped(DropReason::UnknownId), 1U);
    EXPECT_EQ(relay_->table().size(), 0U);
}

TEST_P(TrsRelayTest, DroppedInputIsNoActivity) {
    reset(100, 120s);
    create_path(path_);
    bind_both();
    now_ += 100s;
    const auto end_key = crypto::random_key();
    EXPECT_TRUE(send(capsule(a_, end_key, path_, 64), ep("198.51.100.1:1")).empty());
    End impostor(GetParam(), crypto::random_key(), Side::Clear, a_.at);
    EXPECT_TRUE(
        send(impostor.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), a_.at).empty());
    now_ += 20s;
    EXPECT_EQ(relay_->sweep(now_), 1U);
}

// --- Families -----------------------------------------------------------------------------------

TEST_P(TrsRelayTest, Ipv4EndAndIpv6EndMeetThroughTheRelay) {
    create_path(path_);
    // A arrives as an IPv4-mapped IPv6 source (a dual-stack socket would show it so): its slot
    // holds the IPv4 form, and so do the destinations towards it.
    const Endpoint mapped = ep("[::ffff:192.0.2.1]:4800");
    ASSERT_TRUE(send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), mapped).empty());
    EXPECT_EQ(relay_->slot(path_, Side::Clear), a_.at);
    ASSERT_TRUE(relay_->slot(path_, Side::Clear)->address.is_v4());
    auto out = send(b_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_), b_.at);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_TRUE(out[0].to.address.is_v4());
    EXPECT_EQ(out[0].to, a_.at);
    const auto end_key = crypto::random_key();
    out = send(capsule(a_, end_key, path_, 500), a_.at);  // the same end, plain IPv4 now
    ASSERT_EQ(out.size(), 1U);
    EXPECT_TRUE(out[0].to.address.is_v6());
    EXPECT_EQ(out[0].to, b_.at);
}

// --- Datagrams with Count > 0 -------------------------------------------------------------------

TEST_P(TrsRelayTest, MultiMessageDatagramToOneEndIsForwardedWhole) {
    create_path(path_);
    bind_both();
    const auto end_key = crypto::random_key();
    const auto hole_punching_before = metrics_.forwarded_count(MessageType::HolePunching);
    const auto bytes_before = metrics_.forwarded_bytes();
    const auto first =
        a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_, wire::flag::kRelayed, 2);
    const auto datagram =
        concat({first, capsule(a_, end_key, path_, 100), capsule(a_, end_key, path_, 300)});
    const auto out = send(datagram, a_.at);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].to, b_.at);
    EXPECT_EQ(out[0].bytes, datagram);
    EXPECT_TRUE(wire::split_datagram(out[0].bytes).has_value());
    EXPECT_EQ(metrics_.forwarded_count(MessageType::Capsule), 2U);
    EXPECT_EQ(metrics_.forwarded_count(MessageType::HolePunching), hole_punching_before + 1);
    EXPECT_EQ(metrics_.forwarded_bytes(), bytes_before + datagram.size());
}

TEST_P(TrsRelayTest, MultiMessageDatagramForTwoEndsIsSplit) {
    // A is an end of two relayed paths (an adapter serving two general nodes, say) and batches
    // one Capsule for each.
    create_path(path_);
    bind_both();
    const auto path2 = crypto::random_id<PathIdTag>();
    create_path(path2);
    End c(GetParam(), tunnel_key_, Side::Set, ep("[2001:db8::3]:4802"));
    ASSERT_TRUE(send(a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path2), a_.at).empty());
    ASSERT_EQ(send(c.seal(MessageType::HolePunching, wire::EmptyBody{}, path2), c.at).size(), 1U);

    const auto end_key = crypto::random_key();
    const auto to_b = capsule(a_, end_key, path_, 100, 1);
    const auto to_c = capsule(a_, end_key, path2, 200);
    const auto out = send(concat({to_b, to_c}), a_.at);
    // The second message is a datagram by itself; the first announces Count 1 inside its MAC
    // and would be rejected alone, so it is dropped (counted).
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].to, c.at);
    EXPECT_EQ(out[0].bytes, to_c);
    EXPECT_EQ(dropped(DropReason::CountSplit), 1U);
}

TEST_P(TrsRelayTest, MultiMessageDatagramWithOneBadMessageForwardsTheRest) {
    create_path(path_);
    bind_both();
    const auto end_key = crypto::random_key();
    End impostor(GetParam(), crypto::random_key(), Side::Clear, a_.at);
    const auto bad =
        impostor.seal(MessageType::HolePunching, wire::EmptyBody{}, path_, wire::flag::kRelayed, 1);
    const auto good = capsule(a_, end_key, path_, 64);
    const auto out = send(concat({bad, good}), a_.at);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].bytes, good);
    EXPECT_EQ(dropped(DropReason::BadMac), 1U);
}

// --- Bad input -----------------------------------------------------------------------------------

struct Snapshot {
    std::size_t entries = 0;
    std::optional<Endpoint> a;
    std::optional<Endpoint> b;
    TimePoint last_activity;
    std::uint64_t forwarded = 0;
    friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

TEST_P(TrsRelayTest, EveryTruncationAndEveryBitFlipProducesNothingAndChangesNothing) {
    create_path(path_);
    bind_both();
    const auto end_key = crypto::random_key();
    const auto snapshot = [&] {
        const auto* e = relay_->table().peek(path_);
        return Snapshot{relay_->table().size(), relay_->slot(path_, Side::Clear),
                        relay_->slot(path_, Side::Set), e != nullptr ? e->last_activity : now_,
                        metrics_.forwarded_bytes()};
    };
    now_ += 5s;  // any accepted message would move last_activity
    const std::vector<Bytes> valid = {
        b_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_),
        concat(
            {a_.seal(MessageType::HolePunching, wire::EmptyBody{}, path_, wire::flag::kRelayed, 1),
             capsule(a_, end_key, path_, 90)}),
        relay_request(path_, GetParam(), crypto::random_key(), 4242),
    };
    const Snapshot before = snapshot();
    for (const auto& datagram : valid) {
        for (std::size_t n = 0; n < datagram.size(); ++n) {
            SCOPED_TRACE(n);
            EXPECT_TRUE(send(ByteView(datagram).first(n), a_.at).empty());
            EXPECT_TRUE(send(ByteView(datagram).first(n), b_.at).empty());
        }
        EXPECT_EQ(snapshot(), before);
    }
    // A flipped bit anywhere in a message the TRS can verify. (Not in a Capsule: the TRS
    // cannot verify one and relays it from its bound source; the receiving end drops it.)
    for (const auto* datagram : {&valid[0], &valid[2]}) {
        for (std::size_t bit = 0; bit < datagram->size() * 8; ++bit) {
            auto flipped = *datagram;
            flipped[bit / 8] ^= std::byte(1U << (bit % 8));
            // Reserved bits (header byte 15, flag bits 5–7) are ignored on receipt (W1) but
            // still inside the MAC, so every flip fails somewhere.
            EXPECT_TRUE(send(flipped, a_.at).empty()) << "bit " << bit;
            EXPECT_TRUE(send(flipped, nms_).empty()) << "bit " << bit;
        }
        EXPECT_EQ(snapshot(), before);
    }
    // Random garbage.
    for (std::size_t size : {0, 1, 31, 32, 47, 48, 100, 1500, 65535, 65536}) {
        Bytes garbage(size);
        crypto::random_bytes(garbage);
        EXPECT_TRUE(send(garbage, a_.at).empty());
    }
    EXPECT_EQ(snapshot(), before);
    EXPECT_EQ(dropped(DropReason::Oversized), 1U);
    EXPECT_GT(dropped(DropReason::Truncated), 0U);
    EXPECT_GT(dropped(DropReason::BadMac), 0U);
    // None of it was marked in a window: the genuine datagrams still go through.
    EXPECT_EQ(send(valid[0], b_.at).size(), 1U);
    EXPECT_EQ(send(valid[1], a_.at).size(), 1U);
    EXPECT_EQ(send(valid[2], nms_).size(), 1U);
}

std::string suite_name(const ::testing::TestParamInfo<CipherSuiteId>& param) {
    switch (param.param) {
        case CipherSuiteId::AesCbcHmacMd5:
            return "AesCbcHmacMd5";
        case CipherSuiteId::Aes256Gcm:
            return "Aes256Gcm";
        case CipherSuiteId::ChaCha20Poly1305:
            return "ChaCha20Poly1305";
    }
    return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(AllSuites, TrsRelayTest,
                         ::testing::Values(CipherSuiteId::AesCbcHmacMd5, CipherSuiteId::Aes256Gcm,
                                           CipherSuiteId::ChaCha20Poly1305),
                         suite_name);

}  // namespace
}  // namespace cyphonic::trs
