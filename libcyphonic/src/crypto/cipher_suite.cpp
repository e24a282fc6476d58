#include "cyphonic/crypto/cipher_suite.hpp"

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "openssl_util.hpp"

#include "cyphonic/core/text.hpp"
#include "cyphonic/crypto/hkdf.hpp"

namespace cyphonic::crypto {

namespace {

using wire::CipherSuiteId;

constexpr std::size_t kHeaderSize = wire::kBaseHeaderSize;
constexpr std::size_t kTrailerSize = wire::kTrailerSize;
constexpr std::size_t kMinMessage = wire::kMinUdpMessageLength;
constexpr std::size_t kMaxMessage = wire::kMaxMessageLength;
constexpr std::size_t kBlockSize = 16;  // AES block; also the 0x0001 IV size
constexpr std::size_t kCbcIvSize = 16;
constexpr std::size_t kAeadNonceSize = 12;
constexpr std::size_t kMacSize = 16;  // HMAC-MD5 output and AEAD tag: the 16-byte trailer
constexpr std::size_t kWrapAadSize = PathId::kSize + 1;
constexpr std::size_t kCbcWrappedKeySize = kCbcIvSize + Key::kSize + kBlockSize + kMacSize;  // 80
constexpr std::size_t kAeadWrappedKeySize = kAeadNonceSize + Key::kSize + kMacSize;          // 60
static_assert(kMacSize == kTrailerSize);

// Padded size of a CBC plaintext: PKCS#7 always adds 1–16 bytes.
constexpr std::size_t cbc_padded_size(std::size_t n) noexcept {
    return (n / kBlockSize + 1) * kBlockSize;
}

// --- Algorithms, fetched once per process (STYLE.md §5) ------------------------------------

// Bumped in every child after fork(): a nonce pool filled before the fork must not be used by
// both processes. If the fork handler cannot be registered, pools are not used at all.
std::atomic<unsigned> g_fork_generation{0};
std::atomic<bool> g_nonce_pool_usable{false};

struct Algorithms {
    detail::Cipher aes_cbc;
    detail::Cipher aes_gcm;
    detail::Cipher chacha20_poly1305;
    detail::Mac hmac;
};

const Algorithms& algorithms() noexcept {
    // A function-local static: the first call initialises it, thread-safely.
    static const Algorithms kAlgorithms = [] {
        const int registered = pthread_atfork(
            nullptr, nullptr, [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); });
        g_nonce_pool_usable.store(registered == 0, std::memory_order_relaxed);
        return Algorithms{
            detail::Cipher(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr)),
            detail::Cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr)),
            detail::Cipher(EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr)),
            detail::Mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr)),
        };
    }();
    return kAlgorithms;
}

// --- Randomness for IVs and nonces ----------------------------------------------------------

// RAND_bytes costs about as much as sealing a 1400-byte packet regardless of the size asked
// for, so IVs and nonces are drawn from a per-instance buffer refilled in blocks. The bytes are
// CSPRNG output all the same (§5.1 "random"), each used once; a fork discards the buffer.
class NoncePool {
public:
    // Fills `out` with fresh random bytes; false if RAND_bytes failed.
    [[nodiscard]] bool take(std::span<std::byte> out) noexcept {
        if (!g_nonce_pool_usable.load(std::memory_order_relaxed)) {
            return RAND_bytes(detail::uc(out.data()), static_cast<int>(out.size())) == 1;
        }
        const unsigned generation = g_fork_generation.load(std::memory_order_relaxed);
        if (out.size() > buffer_.size() - used_ || generation != generation_) {
            if (RAND_bytes(detail::uc(buffer_.data()), static_cast<int>(buffer_.size())) != 1) {
                used_ = buffer_.size();
                return false;
            }
            used_ = 0;
            generation_ = generation;
        }
        std::memcpy(out.data(), buffer_.data() + used_, out.size());
        used_ += out.size();
        return true;
    }

private:
    std::array<std::byte, 768> buffer_{};  // 64 AEAD nonces or 48 CBC IVs
    std::size_t used_ = buffer_.size();
    unsigned generation_ = 0;
};

// --- Primitive steps; each returns false when an OpenSSL call fails -------------------------

// HMAC-MD5 over the concatenation of `parts`. `ctx` holds the key; re-initialising it without
// a key restores the keyed state (measured cheaper than EVP_MAC_CTX_dup per message).
bool hmac(EVP_MAC_CTX* ctx, std::initializer_list<ByteView> parts,
          std::span<std::byte, kMacSize> out) noexcept {
    if (EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1) {
        return false;
    }
    for (const ByteView part : parts) {
        if (!part.empty() && EVP_MAC_update(ctx, detail::uc(part.data()), part.size()) != 1) {
            return false;
        }
    }
    std::size_t written = 0;
    return EVP_MAC_final(ctx, detail::uc(out.data()), &written, out.size()) == 1 &&
           written == kMacSize;
}

// AES-256-CBC with PKCS#7 of `in` (non-empty) into `out` (cbc_padded_size(in.size()) bytes).
bool cbc_encrypt(EVP_CIPHER_CTX* ctx, std::span<const std::byte, kCbcIvSize> iv, ByteView in,
                 std::byte* out) noexcept {
    int n1 = 0;
    int n2 = 0;
    if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, detail::uc(iv.data()), nullptr) != 1 ||
        EVP_EncryptUpdate(ctx, detail::uc(out), &n1, detail::uc(in.data()),
                          static_cast<int>(in.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx, detail::uc(out) + n1, &n2) != 1) {
        return false;
    }
    return static_cast<std::size_t>(n1) + static_cast<std::size_t>(n2) ==
           cbc_padded_size(in.size());
}

// AES-256-CBC decryption without padding removal (the context has padding disabled): writes
// in.size() bytes, a multiple of 16.
bool cbc_decrypt(EVP_CIPHER_CTX* ctx, std::span<const std::byte, kCbcIvSize> iv, ByteView in,
                 std::byte* out) noexcept {
    int n1 = 0;
    int n2 = 0;
    if (EVP_DecryptInit_ex2(ctx, nullptr, nullptr, detail::uc(iv.data()), nullptr) != 1 ||
        EVP_DecryptUpdate(ctx, detail::uc(out), &n1, detail::uc(in.data()),
                          static_cast<int>(in.size())) != 1 ||
        EVP_DecryptFinal_ex(ctx, detail::uc(out) + n1, &n2) != 1) {
        return false;
    }
    return static_cast<std::size_t>(n1) + static_cast<std::size_t>(n2) == in.size();
}

// PKCS#7 check over the last block of `padded` (non-empty, a multiple of 16): returns the
// number of padding bytes, or 0 if the padding is wrong. Runs without data-dependent branches;
// the MAC has been verified already, so this is defence in depth, not an oracle fix.
std::size_t pkcs7_padding(ByteView padded) noexcept {
    const auto last_block = padded.last(kBlockSize);
    const auto pad = static_cast<unsigned>(last_block[kBlockSize - 1]);
    unsigned bad = static_cast<unsigned>(pad == 0) | static_cast<unsigned>(pad > kBlockSize);
    for (unsigned i = 0; i < kBlockSize; ++i) {
        const auto in_padding = static_cast<unsigned>(i < pad);
        const auto byte = static_cast<unsigned>(last_block[kBlockSize - 1 - i]);
        bad |= in_padding & static_cast<unsigned>((byte ^ pad) != 0);
    }
    return bad != 0 ? 0 : pad;
}

bool aead_encrypt(EVP_CIPHER_CTX* ctx, std::span<const std::byte, kAeadNonceSize> nonce,
                  ByteView aad, ByteView in, std::byte* out,
                  std::span<std::byte, kMacSize> tag) noexcept {
    int n = 0;
    if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, detail::uc(nonce.data()), nullptr) != 1 ||
        EVP_EncryptUpdate(ctx, nullptr, &n, detail::uc(aad.data()), static_cast<int>(aad.size())) !=
            1) {
        return false;
    }
    if (!in.empty()) {
        if (EVP_EncryptUpdate(ctx, detail::uc(out), &n, detail::uc(in.data()),
                              static_cast<int>(in.size())) != 1 ||
            static_cast<std::size_t>(n) != in.size()) {
            return false;
        }
    }
    if (EVP_EncryptFinal_ex(ctx, detail::uc(tag.data()), &n) != 1 || n != 0) {
        return false;
    }
    std::array<OSSL_PARAM, 2> params = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
        OSSL_PARAM_construct_end()};
    return EVP_CIPHER_CTX_get_params(ctx, params.data()) == 1;
}

enum class AeadResult : std::uint8_t { Ok, BadTag, Internal };

// Decrypts `in` into `out` (in.size() bytes) and verifies `tag`. On BadTag/Internal the bytes
// written to `out` are wiped.
AeadResult aead_decrypt(EVP_CIPHER_CTX* ctx, std::span<const std::byte, kAeadNonceSize> nonce,
                        ByteView aad, ByteView in, std::byte* out,
                        std::span<const std::byte, kMacSize> tag) noexcept {
    std::array<std::byte, kMacSize> tag_copy{};  // OSSL_PARAM wants a mutable pointer
    std::memcpy(tag_copy.data(), tag.data(), tag.size());
    std::array<OSSL_PARAM, 2> params = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag_copy.data(),
                                          tag_copy.size()),
        OSSL_PARAM_construct_end()};
    int n = 0;
    if (EVP_DecryptInit_ex2(ctx, nullptr, nullptr, detail::uc(nonce.data()), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_params(ctx, params.data()) != 1 ||
        EVP_DecryptUpdate(ctx, nullptr, &n, detail::uc(aad.data()), static_cast<int>(aad.size())) !=
            1) {
        return AeadResult::Internal;
    }
    if (!in.empty()) {
        if (EVP_DecryptUpdate(ctx, detail::uc(out), &n, detail::uc(in.data()),
                              static_cast<int>(in.size())) != 1 ||
            static_cast<std::size_t>(n) != in.size()) {
            OPENSSL_cleanse(out, in.size());
            return AeadResult::Internal;
        }
    }
    std::array<std::byte, kBlockSize> scratch{};  // Final writes nothing for these modes
    if (EVP_DecryptFinal_ex(ctx, detail::uc(scratch.data()), &n) != 1) {
        if (!in.empty()) {
            OPENSSL_cleanse(out, in.size());
        }
        return AeadResult::BadTag;
    }
    return AeadResult::Ok;
}

[[nodiscard]] detail::CipherCtx new_cipher_ctx(const EVP_CIPHER* cipher, const Key& key,
                                               bool encrypt) noexcept {
    detail::CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        return ctx;
    }
    const auto* k = detail::uc(key.view().data());
    const int ok = encrypt ? EVP_EncryptInit_ex2(ctx.get(), cipher, k, nullptr, nullptr)
                           : EVP_DecryptInit_ex2(ctx.get(), cipher, k, nullptr, nullptr);
    if (ok != 1 || EVP_CIPHER_CTX_get_key_length(ctx.get()) != static_cast<int>(Key::kSize)) {
        ctx.reset();
    }
    return ctx;
}

std::array<std::byte, kWrapAadSize> wrap_aad(const PathId& path, WrapRole role) noexcept {
    std::array<std::byte, kWrapAadSize> aad{};
    std::memcpy(aad.data(), path.raw().data(), PathId::kSize);
    aad[PathId::kSize] = static_cast<std::byte>(role);
    return aad;
}

}  // namespace

// --- State ----------------------------------------------------------------------------------

struct CipherSuite::State {
    CipherSuiteId id = CipherSuiteId::Aes256Gcm;
    Key key;                // kept for clone()
    detail::CipherCtx enc;  // keyed once; per message only the IV/nonce is set
    detail::CipherCtx dec;  // separate: AES decryption has its own key schedule
    detail::MacCtx mac;     // 0x0001 only: HMAC-MD5 keyed with mac(key)
    NoncePool nonces;

    [[nodiscard]] bool is_cbc() const noexcept { return id == CipherSuiteId::AesCbcHmacMd5; }
    [[nodiscard]] std::size_t nonce_size() const noexcept {
        return is_cbc() ? kCbcIvSize : kAeadNonceSize;
    }

    [[nodiscard]] std::size_t sealed_size(std::size_t body_size) const noexcept {
        // Exact for every size; only a body within 128 bytes of SIZE_MAX saturates (seal()
        // rejects anything over 65535 as TooLarge).
        if (body_size > std::numeric_limits<std::size_t>::max() - 128) {
            return std::numeric_limits<std::size_t>::max();
        }
        if (is_cbc()) {
            return body_size == 0
                       ? kMinMessage
                       : kHeaderSize + kCbcIvSize + cbc_padded_size(body_size) + kTrailerSize;
        }
        return kHeaderSize + kAeadNonceSize + body_size + kTrailerSize;
    }

    Expected<std::size_t, SealError> seal(wire::ConstHeaderBytes header, ByteView body,
                                          const std::byte* fixed_nonce, MutableByteView out);
    Expected<std::size_t, OpenError> open(ByteView message, MutableByteView plaintext);
    Expected<Bytes, SealError> wrap(const Key& end_key, const PathId& path, WrapRole role,
                                    const std::byte* fixed_nonce);
    Expected<Key, OpenError> unwrap(ByteView wrapped, const PathId& path, WrapRole role);
};

Expected<std::size_t, SealError> CipherSuite::State::seal(wire::ConstHeaderBytes header,
                                                          ByteView body,
                                                          const std::byte* fixed_nonce,
                                                          MutableByteView out) {
    const std::size_t total = sealed_size(body.size());
    if (total > kMaxMessage) {
        return fail(SealError::TooLarge);
    }
    if (out.size() < total) {
        return fail(SealError::BufferTooSmall);
    }
    // memmove: the caller may have encoded the header in place at the start of `out`.
    std::memmove(out.data(), header.data(), kHeaderSize);
    const auto out_header = out.first<kHeaderSize>();
    // §5.1: Message Length is written before the MAC/tag is computed.
    store_be16<12>(out_header, static_cast<std::uint16_t>(total));

    const std::size_t nonce_size = this->nonce_size();
    if (is_cbc() && body.empty()) {
        // Empty body: body-as-sent is empty and the HMAC covers the header alone.
        if (!hmac(mac.get(), {out_header}, out.subspan(kHeaderSize).first<kMacSize>())) {
            ERR_clear_error();
            return fail(SealError::Internal);
        }
        return total;
    }
    const auto nonce = out.subspan(kHeaderSize, nonce_size);
    if (fixed_nonce != nullptr) {
        std::memcpy(nonce.data(), fixed_nonce, nonce_size);
    } else if (!nonces.take(nonce)) {
        ERR_clear_error();
        return fail(SealError::Internal);
    }
    std::byte* const ciphertext = nonce.data() + nonce_size;
    const auto trailer = out.subspan(total - kTrailerSize).first<kTrailerSize>();
    bool ok = false;
    if (is_cbc()) {
        ok = cbc_encrypt(enc.get(), nonce.first<kCbcIvSize>(), body, ciphertext) &&
             hmac(mac.get(), {out.first(total - kTrailerSize)}, trailer);
    } else {
        ok = aead_encrypt(enc.get(), nonce.first<kAeadNonceSize>(), out_header, body, ciphertext,
                          trailer);
    }
    if (!ok) {
        ERR_clear_error();
        return fail(SealError::Internal);
    }
    return total;
}

Expected<std::size_t, OpenError> CipherSuite::State::open(ByteView message,
                                                          MutableByteView plaintext) {
    if (message.size() < kMinMessage) {
        return fail(OpenError::Truncated);
    }
    const auto header = message.first<kHeaderSize>();
    if (load_be16<12>(header) != message.size()) {
        return fail(OpenError::LengthMismatch);
    }
    const ByteView body = message.subspan(kHeaderSize, message.size() - kMinMessage);
    const auto trailer = message.last<kTrailerSize>();

    if (is_cbc()) {
        if (!body.empty() &&
            (body.size() < kCbcIvSize + kBlockSize || body.size() % kBlockSize != 0)) {
            return fail(OpenError::BadBodyLength);
        }
        const std::size_t ciphertext_size = body.empty() ? 0 : body.size() - kCbcIvSize;
        if (plaintext.size() < ciphertext_size) {
            return fail(OpenError::BufferTooSmall);
        }
        // Encrypt-then-MAC: nothing is decrypted before the HMAC matches.
        std::array<std::byte, kMacSize> expected{};
        if (!hmac(mac.get(), {message.first(message.size() - kTrailerSize)}, expected)) {
            ERR_clear_error();
            return fail(OpenError::Internal);
        }
        if (CRYPTO_memcmp(expected.data(), trailer.data(), kMacSize) != 0) {
            return fail(OpenError::BadMac);
        }
        if (body.empty()) {
            return std::size_t{0};
        }
        const ByteView ciphertext = body.subspan(kCbcIvSize);
        if (!cbc_decrypt(dec.get(), body.first<kCbcIvSize>(), ciphertext, plaintext.data())) {
            OPENSSL_cleanse(plaintext.data(), ciphertext_size);
            ERR_clear_error();
            return fail(OpenError::Internal);
        }
        const std::size_t pad = pkcs7_padding(plaintext.first(ciphertext_size));
        if (pad == 0) {
            OPENSSL_cleanse(plaintext.data(), ciphertext_size);
            return fail(OpenError::BadPadding);
        }
        return ciphertext_size - pad;
    }

    if (body.size() < kAeadNonceSize) {
        return fail(OpenError::BadBodyLength);
    }
    const ByteView ciphertext = body.subspan(kAeadNonceSize);
    if (plaintext.size() < ciphertext.size()) {
        return fail(OpenError::BufferTooSmall);
    }
    switch (aead_decrypt(dec.get(), body.first<kAeadNonceSize>(), header, ciphertext,
                         plaintext.data(), trailer)) {
        case AeadResult::Ok:
            return ciphertext.size();
        case AeadResult::BadTag:
            ERR_clear_error();
            return fail(OpenError::BadMac);
        case AeadResult::Internal:
            break;
    }
    ERR_clear_error();
    return fail(OpenError::Internal);
}

Expected<Bytes, SealError> CipherSuite::State::wrap(const Key& end_key, const PathId& path,
                                                    WrapRole role, const std::byte* fixed_nonce) {
    const auto aad = wrap_aad(path, role);
    const std::size_t nonce_size = this->nonce_size();
    Bytes out(is_cbc() ? kCbcWrappedKeySize : kAeadWrappedKeySize);
    const auto nonce = std::span(out).first(nonce_size);
    if (fixed_nonce != nullptr) {
        std::memcpy(nonce.data(), fixed_nonce, nonce_size);
    } else if (!nonces.take(nonce)) {
        ERR_clear_error();
        return fail(SealError::Internal);
    }
    std::byte* const ciphertext = out.data() + nonce_size;
    const auto trailer = std::span(out).last<kMacSize>();
    bool ok = false;
    if (is_cbc()) {
        // IV ‖ AES-256-CBC(enc, IV, PKCS#7(EndKey)) ‖ HMAC-MD5(mac, aad ‖ IV ‖ ciphertext).
        ok = cbc_encrypt(enc.get(), nonce.first<kCbcIvSize>(), end_key.view(), ciphertext) &&
             hmac(mac.get(), {aad, std::span(out).first(out.size() - kMacSize)}, trailer);
    } else {
        ok = aead_encrypt(enc.get(), nonce.first<kAeadNonceSize>(), aad, end_key.view(), ciphertext,
                          trailer);
    }
    if (!ok) {
        ERR_clear_error();
        return fail(SealError::Internal);
    }
    return out;
}

Expected<Key, OpenError> CipherSuite::State::unwrap(ByteView wrapped, const PathId& path,
                                                    WrapRole role) {
    const auto aad = wrap_aad(path, role);
    if (wrapped.size() != (is_cbc() ? kCbcWrappedKeySize : kAeadWrappedKeySize)) {
        return fail(OpenError::BadBodyLength);
    }
    const auto trailer = wrapped.last<kMacSize>();
    Key end_key;
    if (is_cbc()) {
        std::array<std::byte, kMacSize> expected{};
        if (!hmac(mac.get(), {aad, wrapped.first(wrapped.size() - kMacSize)}, expected)) {
            ERR_clear_error();
            return fail(OpenError::Internal);
        }
        if (CRYPTO_memcmp(expected.data(), trailer.data(), kMacSize) != 0) {
            return fail(OpenError::BadMac);
        }
        SecretBytes<Key::kSize + kBlockSize> padded;
        const ByteView ciphertext = wrapped.subspan(kCbcIvSize, padded.kSize);
        if (!cbc_decrypt(dec.get(), wrapped.first<kCbcIvSize>(), ciphertext,
                         padded.mutable_view().data())) {
            ERR_clear_error();
            return fail(OpenError::Internal);
        }
        // A 32-byte key always gets a full block of padding.
        if (pkcs7_padding(padded.view()) != kBlockSize) {
            return fail(OpenError::BadPadding);
        }
        std::memcpy(end_key.mutable_view().data(), padded.view().data(), Key::kSize);
        return end_key;
    }
    switch (aead_decrypt(dec.get(), wrapped.first<kAeadNonceSize>(), aad,
                         wrapped.subspan(kAeadNonceSize, Key::kSize), end_key.mutable_view().data(),
                         trailer)) {
        case AeadResult::Ok:
            return end_key;
        case AeadResult::BadTag:
            ERR_clear_error();
            return fail(OpenError::BadMac);
        case AeadResult::Internal:
            break;
    }
    ERR_clear_error();
    return fail(OpenError::Internal);
}

// --- Public interface -----------------------------------------------------------------------

std::string_view to_string(OpenError e) noexcept {
    // snake_case labels ("bad_mac"), made once from the enumerator names.
    static const auto kNames = [] {
        std::vector<std::string> names;
#define CYPHONIC_NAME(name) names.push_back(snake_case(#name));
        CYPHONIC_OPEN_ERRORS(CYPHONIC_NAME)
#undef CYPHONIC_NAME
        return names;
    }();
    const auto i = static_cast<std::size_t>(e);
    return i < kNames.size() ? std::string_view(kNames[i]) : std::string_view("unknown");
}

std::string_view to_string(SealError e) noexcept {
    switch (e) {
        case SealError::BufferTooSmall:
            return "BufferTooSmall";
        case SealError::TooLarge:
            return "TooLarge";
        case SealError::BadNonce:
            return "BadNonce";
        case SealError::Internal:
            return "Internal";
    }
    return "Unknown";
}

CipherSuite::CipherSuite(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
CipherSuite::CipherSuite(CipherSuite&&) noexcept = default;
CipherSuite& CipherSuite::operator=(CipherSuite&&) noexcept = default;
CipherSuite::~CipherSuite() = default;

Expected<CipherSuite, std::string> CipherSuite::create(CipherSuiteId id, ByteView key) {
    if (key.size() != Key::kSize) {
        return fail(
            fmt::format("cipher suite key must be {} bytes, got {}", Key::kSize, key.size()));
    }
    return create(id, Key(key.first<Key::kSize>()));
}

Expected<CipherSuite, std::string> CipherSuite::create(CipherSuiteId id, const Key& key) {
    const Algorithms& algs = algorithms();
    auto state = std::make_unique<State>();
    state->id = id;
    state->key = key.clone();

    switch (id) {
        case CipherSuiteId::AesCbcHmacMd5: {
            if (!algs.aes_cbc || !algs.hmac) {
                return fail(detail::openssl_error("AES-256-CBC or HMAC unavailable"));
            }
            // §5.1: enc = HKDF(info "cyphonic enc"), mac = HKDF(info "cyphonic mac").
            Key enc_key;
            Key mac_key;
            auto derived =
                hkdf_sha256(key.view(), {}, as_bytes("cyphonic enc"), enc_key.mutable_view())
                    .and_then([&] {
                        return hkdf_sha256(key.view(), {}, as_bytes("cyphonic mac"),
                                           mac_key.mutable_view());
                    });
            if (!derived.has_value()) {
                return fail(std::move(derived.error()));
            }
            state->enc = new_cipher_ctx(algs.aes_cbc.get(), enc_key, true);
            state->dec = new_cipher_ctx(algs.aes_cbc.get(), enc_key, false);
            if (!state->enc || !state->dec ||
                EVP_CIPHER_CTX_set_padding(state->dec.get(), 0) != 1) {
                return fail(detail::openssl_error("AES-256-CBC context set-up failed"));
            }
            state->mac.reset(EVP_MAC_CTX_new(algs.hmac.get()));
            char digest[] = "MD5";
            std::array<OSSL_PARAM, 2> params = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                OSSL_PARAM_construct_end()};
            if (!state->mac ||
                EVP_MAC_init(state->mac.get(), detail::uc(mac_key.view().data()), Key::kSize,
                             params.data()) != 1 ||
                EVP_MAC_CTX_get_mac_size(state->mac.get()) != kMacSize) {
                return fail(detail::openssl_error("HMAC-MD5 context set-up failed"));
            }
            break;
        }
        case CipherSuiteId::Aes256Gcm:
        case CipherSuiteId::ChaCha20Poly1305: {
            const EVP_CIPHER* cipher =
                id == CipherSuiteId::Aes256Gcm ? algs.aes_gcm.get() : algs.chacha20_poly1305.get();
            if (cipher == nullptr) {
                return fail(
                    detail::openssl_error(fmt::format("{} unavailable", wire::to_string(id))));
            }
            state->enc = new_cipher_ctx(cipher, key, true);
            state->dec = new_cipher_ctx(cipher, key, false);
            // Both ciphers default to the 12-byte nonce of §5.1 and a 16-byte tag.
            if (!state->enc || !state->dec ||
                EVP_CIPHER_CTX_get_iv_length(state->enc.get()) !=
                    static_cast<int>(kAeadNonceSize)) {
                return fail(detail::openssl_error(
                    fmt::format("{} context set-up failed", wire::to_string(id))));
            }
            break;
        }
        default:
            return fail(fmt::format("unknown cipher suite 0x{:04x}",
                                    static_cast<unsigned>(static_cast<std::uint16_t>(id))));
    }
    return CipherSuite(std::move(state));
}

Expected<CipherSuite, std::string> CipherSuite::clone() const {
    return create(state_->id, state_->key);
}

wire::CipherSuiteId CipherSuite::id() const noexcept {
    return state_->id;
}

std::size_t CipherSuite::sealed_size(std::size_t body_size) const noexcept {
    return state_->sealed_size(body_size);
}

std::size_t CipherSuite::max_plaintext_size(std::size_t message_size) noexcept {
    // The larger of the two shapes: AEAD writes |body-as-sent| − 12 bytes, 0x0001 writes the
    // padded ciphertext, |body-as-sent| − 16.
    constexpr std::size_t kAeadOverhead = kHeaderSize + kAeadNonceSize + kTrailerSize;
    return message_size > kAeadOverhead ? message_size - kAeadOverhead : 0;
}

Expected<std::size_t, SealError> CipherSuite::seal(wire::ConstHeaderBytes header, ByteView body,
                                                   MutableByteView out) {
    return state_->seal(header, body, nullptr, out);
}

Expected<std::size_t, SealError> CipherSuite::seal_with_nonce(wire::ConstHeaderBytes header,
                                                              ByteView body, ByteView nonce,
                                                              MutableByteView out) {
    if (nonce.size() != state_->nonce_size()) {
        return fail(SealError::BadNonce);
    }
    return state_->seal(header, body, nonce.data(), out);
}

Expected<std::size_t, OpenError> CipherSuite::open(ByteView message, MutableByteView plaintext) {
    return state_->open(message, plaintext);
}

Expected<Bytes, SealError> CipherSuite::wrap_key(const Key& end_key, const PathId& path,
                                                 WrapRole role) {
    return state_->wrap(end_key, path, role, nullptr);
}

Expected<Bytes, SealError> CipherSuite::wrap_key_with_nonce(const Key& end_key, const PathId& path,
                                                            WrapRole role, ByteView nonce) {
    if (nonce.size() != state_->nonce_size()) {
        return fail(SealError::BadNonce);
    }
    return state_->wrap(end_key, path, role, nonce.data());
}

Expected<Key, OpenError> CipherSuite::unwrap_key(ByteView wrapped, const PathId& path,
                                                 WrapRole role) {
    return state_->unwrap(wrapped, path, role);
}

std::size_t CipherSuite::wrapped_key_size() const noexcept {
    return state_->is_cbc() ? kCbcWrappedKeySize : kAeadWrappedKeySize;
}

}  // namespace cyphonic::crypto
