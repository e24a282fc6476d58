#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/crypto/cipher_suite.hpp"
#include "cyphonic/replay/replay_window.hpp"
#include "cyphonic/wire/base_header.hpp"
#include "cyphonic/wire/messages.hpp"

// Sending and receiving one key's UDP messages (PROTOCOL.md §5): the seal(header, body) →
// datagram and open(datagram) → body of the protocol, with the sequence counter of the sending
// side, SENDER_SIDE (D15) and the anti-replay window of the receiving side (§5.4).
namespace cyphonic::signaling {

// Which side of a shared key a party is (D15): on NMS-key and service-key messages the NMS is
// the Set side; on path messages the responder end is. The flag is inside the MAC/AAD.
enum class Side : std::uint8_t { Clear = 0, Set = 1 };

struct SendError {
    enum class Kind : std::uint8_t {
        KeyExhausted,  // the Sequence Number would wrap: replace the key first (§5.4)
        BodyMismatch,  // the body alternative is not the one the header's Type carries
        Seal,          // the cipher suite refused (see `seal`)
    };
    Kind kind = Kind::Seal;
    crypto::SealError seal = crypto::SealError::Internal;
    [[nodiscard]] std::string_view reason() const noexcept;
};

// The sending half of one key. Owns its cipher suite (its own contexts), the next Sequence
// Number (starting at 1, never 0, D18) and a scratch buffer for the plaintext body.
// Not thread-safe: one Sealer per key per thread.
class Sealer {
public:
    // `first_sequence` (never 0) lets an owner that reserves numbers in blocks (NMS replicas,
    // C10) start where its block starts.
    Sealer(crypto::CipherSuite suite, Side side, std::uint32_t first_sequence = 1);

    // Sets Sequence Number, the SENDER_SIDE flag of this side and Message Length in `header`,
    // encodes `body` and seals both into `out` (at least sealed_size() bytes). Returns the
    // number of bytes written. The Sequence Number is consumed only on success.
    [[nodiscard]] Expected<std::size_t, SendError> seal(wire::BaseHeader header,
                                                        const wire::Body& body,
                                                        MutableByteView out);
    // The same into a new buffer, for control messages.
    [[nodiscard]] Expected<Bytes, SendError> seal(const wire::BaseHeader& header,
                                                  const wire::Body& body);

    [[nodiscard]] std::size_t sealed_size(const wire::Body& body) const noexcept;
    [[nodiscard]] std::uint32_t next_sequence() const noexcept { return next_sequence_; }
    // Continues at `next` (a newly reserved block, C10). Never 0.
    void set_next_sequence(std::uint32_t next) noexcept { next_sequence_ = next; }
    [[nodiscard]] crypto::CipherSuite& suite() noexcept { return suite_; }

private:
    crypto::CipherSuite suite_;
    Side side_;
    std::uint32_t next_sequence_ = 1;
    Bytes scratch_;
};

// Why a received message was dropped: where it failed, and the detail of that stage.
struct ReceiveError {
    enum class Stage : std::uint8_t {
        Open,       // MAC/tag, lengths or padding (see `open`)
        Reflected,  // SENDER_SIDE equal to the receiver's own side (D15)
        Replay,     // zero, replayed or too old (see `replay`)
        Decode,     // the authentic plaintext body is malformed (see `decode`)
    };
    Stage stage = Stage::Open;
    crypto::OpenError open = crypto::OpenError::Internal;
    replay::ReplayVerdict replay = replay::ReplayVerdict::Accept;
    wire::DecodeError decode = wire::DecodeError::Truncated;
    // A stable snake_case label for counters and logs, e.g. "bad_mac", "replayed".
    [[nodiscard]] std::string_view reason() const noexcept;
};

// A received, authentic, fresh and decoded message. A Capsule's payload is a view into the
// plaintext buffer given to Opener::open, valid while that buffer lives and is not reused.
struct OpenedMessage {
    wire::BaseHeader header;
    wire::Body body;
};

// The receiving half of one key: the cipher suite and the anti-replay window(s).
// `own_side` is the side this party sends with; messages carrying it are dropped as reflected
// and the window tracks the other side. A relay that accepts both sides of a key (the TRS)
// passes std::nullopt and gets one window per side. Not thread-safe.
class Opener {
public:
    Opener(crypto::CipherSuite suite, std::optional<Side> own_side);

    // Runs PROTOCOL.md §5.5 steps 3–4 for one message of a split datagram: verify (constant
    // time) and decrypt, reflected check, anti-replay (marks the number), decode. `plaintext` needs
    // CipherSuite::max_plaintext_size(message size) bytes.
    [[nodiscard]] Expected<OpenedMessage, ReceiveError> open(const wire::MessageView& message,
                                                             MutableByteView plaintext);

    // Replay counters of both sides added up.
    [[nodiscard]] replay::ReplayCounters replay_counters() const noexcept;
    [[nodiscard]] const replay::ReplayWindow& window(Side sender) const noexcept {
        return windows_[static_cast<std::size_t>(sender)];
    }
    [[nodiscard]] crypto::CipherSuite& suite() noexcept { return suite_; }

private:
    crypto::CipherSuite suite_;
    std::optional<Side> own_side_;
    std::array<replay::ReplayWindow, 2> windows_;
};

}  // namespace cyphonic::signaling
