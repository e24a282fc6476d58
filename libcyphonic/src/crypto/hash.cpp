#include "cyphonic/crypto/hash.hpp"

#include <memory>
#include <stdexcept>
#include <string>

#include <openssl/err.h>
#include <openssl/evp.h>

namespace cyphonic::crypto {

namespace {
[[noreturn]] void throw_openssl(const char* what) {
    char text[256] = {};
    ERR_error_string_n(ERR_get_error(), text, sizeof text);
    throw std::runtime_error(std::string(what) + ": " + text);
}
}  // namespace

Sha256Digest sha256(std::initializer_list<ByteView> parts) {
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                      &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
        throw_openssl("sha256 init");
    }
    for (const ByteView part : parts) {
        if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) {
            throw_openssl("sha256 update");
        }
    }
    Sha256Digest out{};
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
        len != out.size()) {
        throw_openssl("sha256 final");
    }
    return out;
}

}  // namespace cyphonic::crypto
