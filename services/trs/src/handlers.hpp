#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "metrics.hpp"
#include "relay_table.hpp"

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/crypto/secret_bytes.hpp"
#include "cyphonic/signaling/sealed_message.hpp"
#include "cyphonic/wire/base_header.hpp"
#include "cyphonic/wire/messages.hpp"

// The messages NMS sends to the TRS: Relay Request → Relay Response (PROTOCOL.md §6.8, §7.4
// steps 3–4) under the service key of that NMS–TRS pair (C5). Bytes and a time in, a sealed
// answer out; no sockets, no clock.
namespace cyphonic::trs {

// One provisioned service key: the NMS it belongs to, its suite and the key (C5).
struct ServiceKey {
    NodeId nms_id;
    wire::CipherSuiteId cipher = wire::CipherSuiteId::Aes256Gcm;
    crypto::Key key;
};

// The first Sequence Number the TRS sends with under each service key, from the wall clock
// (Unix seconds). The NMS keeps its window for the TRS side of a service key while the TRS
// restarts; a TRS without storage that started again at 1 would see every answer dropped as a
// replay (§5.4). So the counter starts at 4 per second since 2023-11-14 (Unix 1.7e9): a restart
// goes forward as long as the TRS averaged under 4 answers per second since its last start,
// with room until about 2057. Never 0.
[[nodiscard]] std::uint32_t initial_sequence(std::int64_t unix_seconds) noexcept;

// Not thread-safe: the I/O thread owns it.
class NmsHandlers {
public:
    // How long an answer is kept for duplicates of its request (§7.11, D18).
    static constexpr std::chrono::seconds kAnswerLifetime{30};

    // The error is a sentence: a suite that cannot be set up, a duplicate NMS NodeID.
    // `first_sequence` (never 0): see initial_sequence().
    [[nodiscard]] static Expected<NmsHandlers, std::string> create(NodeId trs_id,
                                                                   std::vector<ServiceKey> keys,
                                                                   std::size_t max_answers,
                                                                   std::uint32_t first_sequence);

    // Whether `id` is the NodeID of a configured NMS.
    [[nodiscard]] bool knows(const NodeId& id) const noexcept { return peers_.contains(id); }

    struct Outcome {
        RequestResult result = RequestResult::Dropped;
        std::optional<DropReason> drop;  // set when dropped; also for Rejected (table_full)
        std::optional<Bytes> answer;     // sealed, for the datagram's source
    };

    // A Relay Request (`message.header.type` must be RelayRequest): verified under the
    // sender's service key (SENDER_SIDE set, the TRS being the clear side), anti-replay, body
    // decoded; a duplicate (request ID, Transaction ID, type) gets its cached answer re-sealed
    // (D18); otherwise the entry is created or replaced in `table` and a Relay Response, or an
    // Error RELAY_UNAVAILABLE when the table is full or the TRS is shutting down, is sealed.
    // `plaintext` is scratch of CipherSuite::max_plaintext_size(message size) bytes; it is
    // wiped before returning because it held a Tunnel Key.
    [[nodiscard]] Outcome on_relay_request(const wire::MessageView& message, TimePoint now,
                                           RelayTable& table, MutableByteView plaintext);

    // From now on new Relay Requests are refused with RELAY_UNAVAILABLE (SIGTERM: the NMS
    // then asks another TRS at once, §7.4 step 4). Duplicates still get their cached answer.
    void stop_accepting() noexcept { accepting_ = false; }

    // Forgets answers older than kAnswerLifetime.
    void sweep(TimePoint now);
    [[nodiscard]] std::size_t cached_answers() const noexcept { return answers_.size(); }

private:
    struct Peer {
        signaling::Opener opener;
        signaling::Sealer sealer;
    };
    // A cached answer: enough to seal it again with a new Sequence Number. A Relay Response
    // body holds the Tunnel Key, so the destructor wipes it.
    struct Answer {
        Answer(TimePoint expiry, wire::BaseHeader answer_header, wire::Body answer_body)
            : expires(expiry), header(answer_header), body(std::move(answer_body)) {}
        Answer(Answer&&) noexcept = default;
        Answer& operator=(Answer&&) noexcept = default;
        Answer(const Answer&) = delete;
        Answer& operator=(const Answer&) = delete;
        ~Answer();
        TimePoint expires;
        wire::BaseHeader header;
        wire::Body body;
    };
    using AnswerKey = std::tuple<NodeId, std::uint32_t, wire::MessageType>;

    NmsHandlers(NodeId trs_id, std::size_t max_answers) noexcept
        : trs_id_(trs_id), max_answers_(max_answers) {}

    [[nodiscard]] Outcome answer(Peer& peer, const wire::BaseHeader& request, TimePoint now,
                                 RequestResult result, std::optional<DropReason> drop,
                                 wire::BaseHeader header, wire::Body body);

    NodeId trs_id_;
    std::size_t max_answers_;
    bool accepting_ = true;
    std::map<NodeId, Peer> peers_;
    std::map<AnswerKey, Answer> answers_;
};

}  // namespace cyphonic::trs
