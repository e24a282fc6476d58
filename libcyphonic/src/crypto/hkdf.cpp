#include "cyphonic/crypto/hkdf.hpp"

#include <array>

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "openssl_util.hpp"

namespace cyphonic::crypto {

namespace {

constexpr std::size_t kSha256Size = 32;
constexpr std::size_t kMaxOutput = 255 * kSha256Size;  // RFC 5869 §2.3

// Fetched once per process; the function-local static makes the first call thread-safe.
EVP_KDF* hkdf_algorithm() noexcept {
    static const detail::Kdf kKdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr));
    return kKdf.get();
}

// OSSL_PARAM wants a non-const pointer even for inputs it only reads.
OSSL_PARAM octets(const char* name, ByteView v) noexcept {
    return OSSL_PARAM_construct_octet_string(
        name, const_cast<std::byte*>(v.data()),  // NOLINT(cppcoreguidelines-pro-type-const-cast)
        v.size());
}

}  // namespace

Expected<void, std::string> hkdf_sha256(ByteView ikm, ByteView salt, ByteView info,
                                        MutableByteView out) {
    if (out.empty() || out.size() > kMaxOutput) {
        return fail(std::string("hkdf_sha256: output length must be 1 to 8160 bytes"));
    }
    EVP_KDF* kdf = hkdf_algorithm();
    if (kdf == nullptr) {
        return fail(detail::openssl_error("EVP_KDF_fetch(HKDF) failed"));
    }
    const detail::KdfCtx ctx(EVP_KDF_CTX_new(kdf));
    if (!ctx) {
        return fail(detail::openssl_error("EVP_KDF_CTX_new(HKDF) failed"));
    }
    char digest[] = "SHA256";
    std::array<OSSL_PARAM, 5> params{};
    std::size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[n++] = octets(OSSL_KDF_PARAM_KEY, ikm);
    // An absent salt is HashLen zero bytes (RFC 5869 §2.2), which HMAC treats exactly like an
    // empty one; OpenSSL wants the parameter left out in that case.
    if (!salt.empty()) {
        params[n++] = octets(OSSL_KDF_PARAM_SALT, salt);
    }
    if (!info.empty()) {
        params[n++] = octets(OSSL_KDF_PARAM_INFO, info);
    }
    params[n] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx.get(), detail::uc(out.data()), out.size(), params.data()) != 1) {
        return fail(detail::openssl_error("EVP_KDF_derive(HKDF-SHA256) failed"));
    }
    return {};
}

}  // namespace cyphonic::crypto
