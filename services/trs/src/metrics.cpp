#include "metrics.hpp"

namespace cyphonic::trs {

std::string_view to_string(DropReason r) noexcept {
    switch (r) {
#define CYPHONIC_CASE(name, label) \
    case DropReason::name:         \
        return label;
        CYPHONIC_TRS_DROP_REASONS(CYPHONIC_CASE)
#undef CYPHONIC_CASE
    }
    return "unknown";
}

DropReason drop_reason(wire::DecodeError e) noexcept {
    using wire::DecodeError;
    switch (e) {
        case DecodeError::Truncated:
            return DropReason::Truncated;
        case DecodeError::LengthMismatch:
            return DropReason::LengthMismatch;
        case DecodeError::UnknownVersion:
            return DropReason::UnknownVersion;
        case DecodeError::UnknownType:
            return DropReason::UnknownType;
        case DecodeError::WrongTransport:
            return DropReason::WrongTransport;
        case DecodeError::UnknownNextOpt:
            return DropReason::UnknownNextOpt;
        case DecodeError::BadCount:
            return DropReason::BadCount;
        case DecodeError::TrailingBytes:
            return DropReason::TrailingBytes;
        // Only body decoders report the rest; the TRS sees them after opening, when an
        // authentic sender built a bad body.
        case DecodeError::BadBodyLength:
        case DecodeError::UnknownCipher:
        case DecodeError::BadKeyLength:
        case DecodeError::BadDate:
        case DecodeError::BadFqdn:
        case DecodeError::BadAuthType:
        case DecodeError::BadExecMode:
        case DecodeError::BadDeviceId:
        case DecodeError::BadNotificationType:
        case DecodeError::BadNatFlag:
        case DecodeError::BadProcessCode:
        case DecodeError::BadGeneralNodeFlag:
        case DecodeError::BadPayloadLength:
            return DropReason::BadBody;
    }
    return DropReason::BadBody;
}

DropReason drop_reason(crypto::OpenError e) noexcept {
    using crypto::OpenError;
    switch (e) {
        case OpenError::Truncated:
            return DropReason::Truncated;
        case OpenError::LengthMismatch:
            return DropReason::LengthMismatch;
        case OpenError::BadBodyLength:
            return DropReason::BadBodyLength;
        case OpenError::BadMac:
            return DropReason::BadMac;
        case OpenError::BadPadding:
            return DropReason::BadPadding;
        case OpenError::BufferTooSmall:
        case OpenError::Internal:
            return DropReason::Internal;
    }
    return DropReason::Internal;
}

DropReason drop_reason(replay::ReplayVerdict v) noexcept {
    switch (v) {
        case replay::ReplayVerdict::Zero:
            return DropReason::ZeroSequence;
        case replay::ReplayVerdict::Replayed:
            return DropReason::Replayed;
        case replay::ReplayVerdict::TooOld:
            return DropReason::TooOld;
        case replay::ReplayVerdict::Accept:
            break;
    }
    return DropReason::Internal;  // Accept is not a drop: a caller bug
}

std::string_view to_string(RequestResult r) noexcept {
    switch (r) {
        case RequestResult::Answered:
            return "answered";
        case RequestResult::Duplicate:
            return "duplicate";
        case RequestResult::Rejected:
            return "rejected";
        case RequestResult::Forwarded:
            return "forwarded";
        case RequestResult::Dropped:
            return "dropped";
    }
    return "unknown";
}

TrsMetrics::TrsMetrics(app::MetricsRegistry& registry)
    : requests_(registry.counter("cyphonic_trs_requests_total",
                                 "Messages handled, by message type and result",
                                 {"type", "result"})),
      dropped_(registry.counter("cyphonic_trs_dropped_total",
                                "Datagrams or messages dropped, by reason", {"reason"})),
      forwarded_(registry.counter("cyphonic_trs_forwarded_total",
                                  "Messages forwarded verbatim to the other end, by type",
                                  {"type"})),
      forwarded_bytes_(registry
                           .counter("cyphonic_trs_forwarded_bytes_total",
                                    "Bytes of the datagrams forwarded to the other end")
                           .with({})),
      active_paths_(
          registry.gauge("cyphonic_trs_active_paths", "Relay entries (PathIDs) in the table")
              .with({})),
      latency_(registry
                   .histogram("cyphonic_trs_request_seconds",
                              "Time from receiving a datagram to having sent what it caused")
                   .with({})) {}

void TrsMetrics::dropped(DropReason reason, std::uint64_t n) {
    auto& child = drop_children_[static_cast<std::size_t>(reason)];
    if (child == nullptr) {
        child = &dropped_.with({std::string(to_string(reason))});
    }
    child->inc(n);
}

void TrsMetrics::request(wire::MessageType type, RequestResult result) {
    auto& child =
        request_children_[static_cast<std::size_t>(type)][static_cast<std::size_t>(result)];
    if (child == nullptr) {
        child =
            &requests_.with({std::string(wire::to_string(type)), std::string(to_string(result))});
    }
    child->inc();
}

void TrsMetrics::forwarded(wire::MessageType type, std::size_t bytes) {
    auto& child = forwarded_children_[static_cast<std::size_t>(type)];
    if (child == nullptr) {
        child = &forwarded_.with({std::string(wire::to_string(type))});
    }
    child->inc();
    forwarded_bytes_.inc(bytes);
}

std::uint64_t TrsMetrics::dropped_count(DropReason reason) const noexcept {
    const auto* child = drop_children_[static_cast<std::size_t>(reason)];
    return child == nullptr ? 0 : child->value();
}

DropCounts TrsMetrics::dropped_counts() const noexcept {
    DropCounts out{};
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
        out[i] = drop_children_[i] == nullptr ? 0 : drop_children_[i]->value();
    }
    return out;
}

std::uint64_t TrsMetrics::request_count(wire::MessageType type,
                                        RequestResult result) const noexcept {
    const auto* child =
        request_children_[static_cast<std::size_t>(type)][static_cast<std::size_t>(result)];
    return child == nullptr ? 0 : child->value();
}

std::uint64_t TrsMetrics::forwarded_count(wire::MessageType type) const noexcept {
    const auto* child = forwarded_children_[static_cast<std::size_t>(type)];
    return child == nullptr ? 0 : child->value();
}

}  // namespace cyphonic::trs
