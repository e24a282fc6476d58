#pragma once

// Private to the crypto module: OpenSSL handle owners and the error-queue-to-text helper
// (STYLE.md §5, §3).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

namespace cyphonic::crypto::detail {

template <auto FreeFn>
struct FreeWith {
    template <class T>
    void operator()(T* p) const noexcept {
        FreeFn(p);
    }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, FreeWith<&EVP_CIPHER_CTX_free>>;
using Cipher = std::unique_ptr<EVP_CIPHER, FreeWith<&EVP_CIPHER_free>>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, FreeWith<&EVP_MAC_CTX_free>>;
using Mac = std::unique_ptr<EVP_MAC, FreeWith<&EVP_MAC_free>>;
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, FreeWith<&EVP_KDF_CTX_free>>;
using Kdf = std::unique_ptr<EVP_KDF, FreeWith<&EVP_KDF_free>>;

// `what` followed by the drained OpenSSL error queue ("what: error:...; error:..."). Leaves the
// queue empty.
[[nodiscard]] inline std::string openssl_error(std::string_view what) {
    std::string text(what);
    bool first = true;
    for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        text += first ? ": " : "; ";
        text += buffer;
        first = false;
    }
    if (first) {
        text += ": no OpenSSL error reported";
    }
    return text;
}

// OpenSSL takes unsigned char; our buffers are std::byte. Both are byte types, so the cast is
// defined behaviour.
[[nodiscard]] inline unsigned char* uc(std::byte* p) noexcept {
    return reinterpret_cast<unsigned char*>(p);
}
[[nodiscard]] inline const unsigned char* uc(const std::byte* p) noexcept {
    return reinterpret_cast<const unsigned char*>(p);
}

}  // namespace cyphonic::crypto::detail
