#include "cyphonic/signaling/sealed_message.hpp"

#include <limits>

namespace cyphonic::signaling {

namespace {
constexpr std::size_t kMaxBody = wire::kMaxMessageLength - wire::kBaseHeaderSize;

Side side_of(const wire::BaseHeader& h) noexcept {
    return h.has(wire::flag::kSenderSide) ? Side::Set : Side::Clear;
}
}  // namespace

std::string_view SendError::reason() const noexcept {
    switch (kind) {
        case Kind::KeyExhausted:
            return "key_exhausted";
        case Kind::BodyMismatch:
            return "body_mismatch";
        case Kind::Seal:
            return crypto::to_string(seal);
    }
    return "unknown";
}

Sealer::Sealer(crypto::CipherSuite suite, Side side, std::uint32_t first_sequence)
    : suite_(std::move(suite)), side_(side), next_sequence_(first_sequence), scratch_(kMaxBody) {}

std::size_t Sealer::sealed_size(const wire::Body& body) const noexcept {
    return suite_.sealed_size(wire::encoded_size(body));
}

Expected<std::size_t, SendError> Sealer::seal(wire::BaseHeader header, const wire::Body& body,
                                              MutableByteView out) {
    if (next_sequence_ == 0) {
        return fail(SendError{SendError::Kind::KeyExhausted});
    }
    if (!wire::body_matches(header.type, body)) {
        return fail(SendError{SendError::Kind::BodyMismatch});
    }
    const std::size_t body_size = wire::encoded_size(body);
    if (body_size > scratch_.size()) {
        return fail(SendError{SendError::Kind::Seal, crypto::SealError::TooLarge});
    }
    const std::size_t written = wire::encode(body, scratch_);
    header.sequence = next_sequence_;
    header.flags =
        static_cast<std::uint8_t>(side_ == Side::Set ? (header.flags | wire::flag::kSenderSide)
                                                     : (header.flags & ~wire::flag::kSenderSide));
    std::array<std::byte, wire::kBaseHeaderSize> encoded_header{};
    wire::encode(header, encoded_header);  // Message Length is filled in by seal()
    auto sealed = suite_.seal(encoded_header, std::span(scratch_).first(written), out);
    if (!sealed.has_value()) {
        return fail(SendError{SendError::Kind::Seal, sealed.error()});
    }
    // After UINT32_MAX the counter reads 0, which seal() refuses from then on.
    ++next_sequence_;
    return *sealed;
}

Expected<Bytes, SendError> Sealer::seal(const wire::BaseHeader& header, const wire::Body& body) {
    Bytes out(sealed_size(body));
    auto n = seal(header, body, out);
    if (!n.has_value()) {
        return fail(n.error());
    }
    out.resize(*n);
    return out;
}

std::string_view ReceiveError::reason() const noexcept {
    switch (stage) {
        case Stage::Open:
            return crypto::to_string(open);
        case Stage::Reflected:
            return "reflected";
        case Stage::Replay:
            return replay::to_string(replay);
        case Stage::Decode:
            return wire::to_string(decode);
    }
    return "unknown";
}

Opener::Opener(crypto::CipherSuite suite, std::optional<Side> own_side)
    : suite_(std::move(suite)), own_side_(own_side) {}

Expected<OpenedMessage, ReceiveError> Opener::open(const wire::MessageView& message,
                                                   MutableByteView plaintext) {
    const wire::BaseHeader& header = message.header;
    const Side sender = side_of(header);
    // Order of §5.5 step 3: authenticity first (so garbage is counted as bad_mac, never as a
    // replay), then the reflected check (number not marked), then the window.
    const auto opened = suite_.open(message.bytes, plaintext);
    if (!opened.has_value()) {
        return fail(ReceiveError{ReceiveError::Stage::Open, opened.error()});
    }
    if (own_side_ && sender == *own_side_) {
        return fail(ReceiveError{ReceiveError::Stage::Reflected});
    }
    auto& window = windows_[static_cast<std::size_t>(sender)];
    if (const auto verdict = window.update(header.sequence);
        verdict != replay::ReplayVerdict::Accept) {
        return fail(ReceiveError{.stage = ReceiveError::Stage::Replay, .replay = verdict});
    }
    auto body = wire::decode_body(header.type, plaintext.first(*opened));
    if (!body.has_value()) {
        return fail(ReceiveError{.stage = ReceiveError::Stage::Decode, .decode = body.error()});
    }
    return OpenedMessage{header, std::move(*body)};
}

replay::ReplayCounters Opener::replay_counters() const noexcept {
    replay::ReplayCounters sum = windows_[0].counters();
    sum += windows_[1].counters();
    return sum;
}

}  // namespace cyphonic::signaling
