#include "handlers.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

namespace cyphonic::trs {

namespace {

void wipe(MutableByteView bytes) noexcept {
    if (!bytes.empty()) {
        OPENSSL_cleanse(bytes.data(), bytes.size());
    }
}

NmsHandlers::Outcome dropped(DropReason reason) {
    NmsHandlers::Outcome out;
    out.drop = reason;
    return out;
}

}  // namespace

NmsHandlers::Answer::~Answer() {
    if (auto* relay = std::get_if<wire::Relay>(&body)) {
        wipe(relay->tunnel_key);
    }
}

std::uint32_t initial_sequence(std::int64_t unix_seconds) noexcept {
    constexpr std::int64_t kEpoch = 1'700'000'000;
    constexpr std::int64_t kPerSecond = 4;
    // Keep 2^24 numbers of headroom below the wrap (P2) for the life of one process.
    constexpr std::int64_t kLast = (std::int64_t{1} << 32) - (std::int64_t{1} << 24);
    if (unix_seconds <= kEpoch || unix_seconds - kEpoch > kLast / kPerSecond) {
        return 1;  // a clock before 2023 or past the range: the plain start of §5.4
    }
    return static_cast<std::uint32_t>((unix_seconds - kEpoch) * kPerSecond);
}

Expected<NmsHandlers, std::string> NmsHandlers::create(NodeId trs_id, std::vector<ServiceKey> keys,
                                                       std::size_t max_answers,
                                                       std::uint32_t first_sequence) {
    NmsHandlers handlers(trs_id, max_answers);
    for (auto& k : keys) {
        if (handlers.peers_.contains(k.nms_id)) {
            return fail(fmt::format("NMS {} has two service keys", k.nms_id));
        }
        auto receive = crypto::CipherSuite::create(k.cipher, k.key);
        if (!receive.has_value()) {
            return fail(receive.error());
        }
        auto send = receive->clone();
        if (!send.has_value()) {
            return fail(send.error());
        }
        // D15: the NMS is the Set side of a service key, so the TRS sends with it clear and
        // drops a message with it clear as reflected.
        handlers.peers_.emplace(k.nms_id,
                                Peer{signaling::Opener(std::move(*receive), signaling::Side::Clear),
                                     signaling::Sealer(std::move(*send), signaling::Side::Clear,
                                                       first_sequence == 0 ? 1 : first_sequence)});
    }
    return handlers;
}

NmsHandlers::Outcome NmsHandlers::on_relay_request(const wire::MessageView& message, TimePoint now,
                                                   RelayTable& table, MutableByteView plaintext) {
    const wire::BaseHeader& request = message.header;
    const auto peer_it = peers_.find(request.node_id());
    if (peer_it == peers_.end()) {
        return dropped(DropReason::UnknownNms);
    }
    Peer& peer = peer_it->second;
    auto opened = peer.opener.open(message, plaintext);
    // The plaintext body held the Tunnel Key; the decoded copy lives on in `opened`.
    wipe(plaintext.first(std::min(plaintext.size(), std::size_t{message.header.message_length})));
    if (!opened.has_value()) {
        const auto& e = opened.error();
        switch (e.stage) {
            case signaling::ReceiveError::Stage::Open:
                return dropped(drop_reason(e.open));
            case signaling::ReceiveError::Stage::Reflected:
                return dropped(DropReason::Reflected);
            case signaling::ReceiveError::Stage::Replay:
                return dropped(drop_reason(e.replay));
            case signaling::ReceiveError::Stage::Decode:
                return dropped(DropReason::BadBody);
        }
        return dropped(DropReason::Internal);
    }
    auto* relay = std::get_if<wire::Relay>(&opened->body);
    if (relay == nullptr) {
        return dropped(DropReason::Internal);  // decode_body gave another type: a library bug
    }
    struct WipeKey {
        wire::Relay* relay;
        ~WipeKey() { wipe(relay->tunnel_key); }
    } const wipe_key{relay};

    const AnswerKey key{request.node_id(), request.transaction_id, request.type};
    if (const auto cached = answers_.find(key);
        cached != answers_.end() && cached->second.expires > now) {
        // D18: a retransmission; answer again with a new Sequence Number, change nothing.
        auto sealed = peer.sealer.seal(cached->second.header, cached->second.body);
        if (!sealed.has_value()) {
            return dropped(DropReason::Internal);
        }
        spdlog::debug("relay request duplicate nms={} txid={:08x} path_id={}", request.node_id(),
                      request.transaction_id, relay->path_id);
        Outcome out;
        out.result = RequestResult::Duplicate;
        out.answer = std::move(*sealed);
        return out;
    }

    wire::BaseHeader error_header;
    error_header.transaction_id = request.transaction_id;
    error_header.flags = wire::flag::kResponse;
    error_header.type = wire::MessageType::Error;
    error_header.set_id(trs_id_);  // Error carries the ID of the normal answer (§4.1)

    if (!accepting_) {
        return answer(peer, request, now, RequestResult::Rejected, DropReason::ShuttingDown,
                      error_header,
                      wire::Error{static_cast<std::uint16_t>(wire::ErrorCode::RelayUnavailable),
                                  "relay shutting down"});
    }
    const auto created = table.create(relay->path_id, relay->cipher, relay->tunnel_key, now);
    if (!created.has_value()) {
        spdlog::error("relay entry not created path_id={} reason={}", relay->path_id,
                      created.error());
        return answer(peer, request, now, RequestResult::Rejected, DropReason::Internal,
                      error_header,
                      wire::Error{static_cast<std::uint16_t>(wire::ErrorCode::Internal),
                                  "cipher suite unavailable"});
    }
    if (*created == RelayTable::CreateResult::Full) {
        return answer(peer, request, now, RequestResult::Rejected, DropReason::TableFull,
                      error_header,
                      wire::Error{static_cast<std::uint16_t>(wire::ErrorCode::RelayUnavailable),
                                  "relay table full"});
    }
    spdlog::info("relay {} path_id={} cipher={} nms={} txid={:08x} active={}",
                 *created == RelayTable::CreateResult::Created ? "created" : "replaced",
                 relay->path_id, wire::to_string(relay->cipher), request.node_id(),
                 request.transaction_id, table.size());

    wire::BaseHeader response;
    response.transaction_id = request.transaction_id;
    response.flags = wire::flag::kSuccess | wire::flag::kResponse;
    response.type = wire::MessageType::RelayResponse;
    response.set_id(trs_id_);
    return answer(peer, request, now, RequestResult::Answered, std::nullopt, response,
                  *relay);  // §6.8: the response echoes the request
}

NmsHandlers::Outcome NmsHandlers::answer(Peer& peer, const wire::BaseHeader& request, TimePoint now,
                                         RequestResult result, std::optional<DropReason> drop,
                                         wire::BaseHeader header, wire::Body body) {
    auto sealed = peer.sealer.seal(header, body);
    if (!sealed.has_value()) {
        return dropped(DropReason::Internal);
    }
    // Bounded: when full, the answer is still sent, only not kept for duplicates (and the
    // Answer's destructor wipes the key it holds).
    Answer kept(now + kAnswerLifetime, header, std::move(body));
    if (answers_.size() < max_answers_) {
        answers_.insert_or_assign(
            AnswerKey{request.node_id(), request.transaction_id, request.type}, std::move(kept));
    }
    Outcome out;
    out.result = result;
    out.drop = drop;
    out.answer = std::move(*sealed);
    return out;
}

void NmsHandlers::sweep(TimePoint now) {
    std::erase_if(answers_, [&](const auto& item) { return item.second.expires <= now; });
}

}  // namespace cyphonic::trs
