#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cyphonic/app/metrics.hpp"
#include "cyphonic/crypto/cipher_suite.hpp"
#include "cyphonic/replay/replay_window.hpp"
#include "cyphonic/wire/types.hpp"

// The TRS's counters (docs/SERVICES.md): requests by type and result, drops by reason,
// forwarded messages and bytes, active paths and the handling latency, rendered on /metrics.
namespace cyphonic::trs {

// Why the TRS dropped a datagram or one message of it. One counter each
// (cyphonic_trs_dropped_total{reason}); the labels are stable.
#define CYPHONIC_TRS_DROP_REASONS(X)                                                           \
    /* the datagram as a whole (split_datagram, §5.5 step 1) */                               \
    X(Oversized, "oversized")                                                                  \
    X(Truncated, "truncated")                                                                  \
    X(LengthMismatch, "length_mismatch")                                                       \
    X(UnknownVersion, "unknown_version")                                                       \
    X(UnknownType, "unknown_type")                                                             \
    X(WrongTransport, "wrong_transport")                                                       \
    X(UnknownNextOpt, "unknown_next_opt")                                                      \
    X(BadCount, "bad_count")                                                                   \
    X(TrailingBytes, "trailing_bytes")                                                         \
    /* one message: lookup */                                                                  \
    X(UnknownId, "unknown_id")           /* no relay entry for the PathID */                   \
    X(UnknownNms, "unknown_nms")         /* Relay Request from an NMS without a service key */ \
    X(UnexpectedType, "unexpected_type") /* a type the TRS never receives */                   \
    /* one message: opening (§5.5 step 3) */                                                  \
    X(BadBodyLength, "bad_body_length")                                                        \
    X(BadMac, "bad_mac")                                                                       \
    X(BadPadding, "bad_padding")                                                               \
    X(Reflected, "reflected")                                                                  \
    X(ZeroSequence, "zero_sequence")                                                           \
    X(Replayed, "replayed")                                                                    \
    X(TooOld, "too_old")                                                                       \
    /* one message: an authentic body that does not decode (§5.5 step 4) */                   \
    X(BadBody, "bad_body")                                                                     \
    /* one message: relay rules (§7.4, C20) */                                                \
    X(EndKeyNotWrapped, "end_key_not_wrapped") /* a relayed End Key the TRS could read */      \
    X(OtherSlotEmpty, "other_slot_empty")                                                      \
    X(UnboundSource, "unbound_source") /* Capsule not from its side's bound slot */            \
    X(CountSplit, "count_split")       /* first message of a datagram split across ends */     \
    X(TableFull, "table_full")         /* Relay Request answered RELAY_UNAVAILABLE */          \
    X(ShuttingDown, "shutting_down")   /* Relay Request answered RELAY_UNAVAILABLE */          \
    /* sending */                                                                              \
    X(NoSocket, "no_socket") /* no socket of the destination's family */                       \
    X(SendFailed, "send_failed")                                                               \
    X(Internal, "internal")

enum class DropReason : std::uint8_t {
#define CYPHONIC_ENUMERATOR(name, label) name,
    CYPHONIC_TRS_DROP_REASONS(CYPHONIC_ENUMERATOR)
#undef CYPHONIC_ENUMERATOR
};
inline constexpr std::size_t kDropReasonCount = 0
#define CYPHONIC_COUNT(name, label) +1  // NOLINT(bugprone-macro-parentheses)
    CYPHONIC_TRS_DROP_REASONS(CYPHONIC_COUNT)
#undef CYPHONIC_COUNT
    ;
[[nodiscard]] std::string_view to_string(DropReason r) noexcept;

// The drop reason for each rejection of the library.
[[nodiscard]] DropReason drop_reason(wire::DecodeError e) noexcept;
[[nodiscard]] DropReason drop_reason(crypto::OpenError e) noexcept;
[[nodiscard]] DropReason drop_reason(replay::ReplayVerdict v) noexcept;

// What became of one message (cyphonic_trs_requests_total{type,result}).
enum class RequestResult : std::uint8_t {
    Answered,   // Relay Request: entry created or replaced, Relay Response sent
    Duplicate,  // Relay Request seen before: the cached answer re-sealed (D18)
    Rejected,   // Relay Request answered with an Error
    Forwarded,  // path message or Capsule forwarded verbatim
    Dropped,    // see cyphonic_trs_dropped_total
};
inline constexpr std::size_t kRequestResultCount = 5;
[[nodiscard]] std::string_view to_string(RequestResult r) noexcept;

using DropCounts = std::array<std::uint64_t, kDropReasonCount>;

// Thread-safe to read (atomics); written from the I/O thread only. Children of the labelled
// families are created on first use, so /metrics lists what happened and nothing else.
class TrsMetrics {
public:
    explicit TrsMetrics(app::MetricsRegistry& registry);

    void dropped(DropReason reason, std::uint64_t n = 1);
    void request(wire::MessageType type, RequestResult result);
    void forwarded(wire::MessageType type, std::size_t bytes);
    void observe_latency(double seconds) { latency_.observe(seconds); }
    void set_active_paths(std::size_t n) { active_paths_.set(static_cast<std::int64_t>(n)); }

    [[nodiscard]] std::uint64_t dropped_count(DropReason reason) const noexcept;
    [[nodiscard]] DropCounts dropped_counts() const noexcept;
    [[nodiscard]] std::uint64_t request_count(wire::MessageType type,
                                              RequestResult result) const noexcept;
    [[nodiscard]] std::uint64_t forwarded_count(wire::MessageType type) const noexcept;
    [[nodiscard]] std::uint64_t forwarded_bytes() const noexcept {
        return forwarded_bytes_.value();
    }
    [[nodiscard]] std::int64_t active_paths() const noexcept { return active_paths_.value(); }

private:
    static constexpr std::size_t kTypes = wire::kLastMessageType + 1;

    app::Family<app::Counter>& requests_;
    app::Family<app::Counter>& dropped_;
    app::Family<app::Counter>& forwarded_;
    app::Counter& forwarded_bytes_;
    app::Gauge& active_paths_;
    app::Histogram& latency_;
    std::array<std::array<app::Counter*, kRequestResultCount>, kTypes> request_children_{};
    std::array<app::Counter*, kDropReasonCount> drop_children_{};
    std::array<app::Counter*, kTypes> forwarded_children_{};
};

}  // namespace cyphonic::trs
