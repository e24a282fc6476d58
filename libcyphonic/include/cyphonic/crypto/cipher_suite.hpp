#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/crypto/secret_bytes.hpp"
#include "cyphonic/wire/base_header.hpp"
#include "cyphonic/wire/types.hpp"

namespace cyphonic::crypto {

// Why open() rejected a message; one counter each at the receiver.
#define CYPHONIC_OPEN_ERRORS(X)                                                             \
    X(Truncated)      /* shorter than header + trailer (+ IV/nonce for non-empty bodies) */ \
    X(LengthMismatch) /* Message Length field differs from the message size */              \
    X(BadBodyLength)  /* body-as-sent of a size the suite cannot produce */                 \
    X(BadMac)         /* HMAC or AEAD tag does not verify */                                \
    X(BadPadding)     /* 0x0001: PKCS#7 padding wrong after a valid MAC */                  \
    X(BufferTooSmall) /* the caller's plaintext buffer is too small */                      \
    X(Internal)       /* an OpenSSL call failed */

enum class OpenError : std::uint8_t {
#define CYPHONIC_ENUMERATOR(name) name,
    CYPHONIC_OPEN_ERRORS(CYPHONIC_ENUMERATOR)
#undef CYPHONIC_ENUMERATOR
};
[[nodiscard]] std::string_view to_string(OpenError e) noexcept;

enum class SealError : std::uint8_t {
    BufferTooSmall,  // `out` smaller than sealed_size()
    TooLarge,        // the sealed message would exceed 65535 bytes
    BadNonce,        // seal_with_nonce: IV/nonce of the wrong size
    Internal,        // an OpenSSL call failed
};
[[nodiscard]] std::string_view to_string(SealError e) noexcept;

// End Key wrap roles (§5.3, C9).
enum class WrapRole : std::uint8_t { Initiator = 0x01, Responder = 0x02 };

// One key under one cipher suite (PROTOCOL.md §5.1): 0x0001 AES-256-CBC + HMAC-MD5 with the
// HKDF key split, 0x0002 AES-256-GCM, 0x0003 ChaCha20-Poly1305.
//
// A UDP message is sealed as header ‖ body-as-sent ‖ trailer(16). The MAC/tag is checked in
// constant time before anything else of the message is trusted.
//
// Thread safety: an instance keeps its own OpenSSL contexts and is not thread-safe; give each
// thread its own (clone()). Algorithms are fetched once per process.
class CipherSuite {
public:
    // `key` must be 32 bytes. The error is a sentence for a log line (bad length, OpenSSL text).
    [[nodiscard]] static Expected<CipherSuite, std::string> create(wire::CipherSuiteId id,
                                                                   ByteView key);
    [[nodiscard]] static Expected<CipherSuite, std::string> create(wire::CipherSuiteId id,
                                                                   const Key& key);
    CipherSuite(CipherSuite&&) noexcept;
    CipherSuite& operator=(CipherSuite&&) noexcept;
    ~CipherSuite();
    // A new instance with the same key and its own contexts (for another thread).
    [[nodiscard]] Expected<CipherSuite, std::string> clone() const;

    [[nodiscard]] wire::CipherSuiteId id() const noexcept;

    // Bytes of the sealed message for a plaintext body of `body_size` bytes.
    [[nodiscard]] std::size_t sealed_size(std::size_t body_size) const noexcept;
    // Largest plaintext body open() can produce from a message of `message_size` bytes.
    [[nodiscard]] static std::size_t max_plaintext_size(std::size_t message_size) noexcept;

    // Seals `body` behind the encoded `header`: writes header (with Message Length set to the
    // sealed size), body-as-sent and trailer to `out`; returns the sealed size. A fresh random
    // IV/nonce per call. `out` must not overlap `body`; `header` may be the first 32 bytes of
    // `out` (a header encoded in place).
    [[nodiscard]] Expected<std::size_t, SealError> seal(wire::ConstHeaderBytes header,
                                                        ByteView body, MutableByteView out);
    // The same with a caller-chosen IV (0x0001, 16 bytes) or nonce (AEAD, 12 bytes). Only for
    // test vectors: a nonce must never be reused under one key.
    [[nodiscard]] Expected<std::size_t, SealError> seal_with_nonce(wire::ConstHeaderBytes header,
                                                                   ByteView body, ByteView nonce,
                                                                   MutableByteView out);

    // Opens exactly one sealed message (`message` = Message Length bytes, header first):
    // verifies the MAC/tag in constant time, then decrypts the body into `plaintext` (at least
    // max_plaintext_size(message.size()) bytes) and returns the plaintext body size. On any
    // error nothing written to `plaintext` may be used.
    [[nodiscard]] Expected<std::size_t, OpenError> open(ByteView message,
                                                        MutableByteView plaintext);

    // End Key wrap under this (Temp) key (§5.3): 80 bytes for 0x0001, 60 for the AEAD suites.
    [[nodiscard]] Expected<Bytes, SealError> wrap_key(const Key& end_key, const PathId& path,
                                                      WrapRole role);
    [[nodiscard]] Expected<Bytes, SealError> wrap_key_with_nonce(const Key& end_key,
                                                                 const PathId& path, WrapRole role,
                                                                 ByteView nonce);  // tests only
    [[nodiscard]] Expected<Key, OpenError> unwrap_key(ByteView wrapped, const PathId& path,
                                                      WrapRole role);
    [[nodiscard]] std::size_t wrapped_key_size() const noexcept;

private:
    struct State;
    explicit CipherSuite(std::unique_ptr<State> state) noexcept;
    std::unique_ptr<State> state_;
};

}  // namespace cyphonic::crypto
