#include "password.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/crypto/random.hpp"

namespace cyphonic::as {

namespace {

constexpr std::uint64_t kN = 16384;
constexpr std::uint64_t kR = 8;
constexpr std::uint64_t kP = 1;
constexpr std::size_t kSaltSize = 16;
constexpr std::size_t kHashSize = 32;

// Bounds for parameters read back from the database.
constexpr std::uint64_t kMaxN = std::uint64_t{1} << 17U;
constexpr std::uint64_t kMaxR = 16;
constexpr std::uint64_t kMaxP = 4;
constexpr std::size_t kMinSalt = 8;
constexpr std::size_t kMaxSalt = 64;
constexpr std::size_t kMinHash = 16;
constexpr std::size_t kMaxHash = 64;
constexpr std::uint64_t kMaxMemory = std::uint64_t{64} << 20U;  // for V = 128·r·N bytes

struct Params {
    std::uint64_t n = kN;
    std::uint64_t r = kR;
    std::uint64_t p = kP;
    Bytes salt;
    Bytes hash;
};

// scrypt needs 128·r·N bytes for V plus 128·r·p for B; give it that and a little more.
std::uint64_t max_memory(const Params& params) {
    return (128 * params.r * (params.n + params.p + 2)) + (1U << 20U);
}

bool run_scrypt(std::string_view password, const Params& params, std::span<std::byte> out) {
    return EVP_PBE_scrypt(password.data(), password.size(),
                          reinterpret_cast<const unsigned char*>(params.salt.data()),
                          params.salt.size(), params.n, params.r, params.p, max_memory(params),
                          reinterpret_cast<unsigned char*>(out.data()), out.size()) == 1;
}

std::optional<std::uint64_t> number(std::string_view text) {
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return v;
}

std::optional<Params> parse(std::string_view stored) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const auto dollar = stored.find('$', start);
        parts.push_back(stored.substr(start, dollar - start));
        if (dollar == std::string_view::npos) {
            break;
        }
        start = dollar + 1;
    }
    constexpr std::size_t kParts = 6;
    if (parts.size() != kParts || parts[0] != kPasswordScheme) {
        return std::nullopt;
    }
    const auto n = number(parts[1]);
    const auto r = number(parts[2]);
    const auto p = number(parts[3]);
    auto salt = from_hex(parts[4]);
    auto hash = from_hex(parts[5]);
    if (!n || !r || !p || !salt || !hash) {
        return std::nullopt;
    }
    const bool power_of_two = *n >= 2 && (*n & (*n - 1)) == 0;
    if (!power_of_two || *n > kMaxN || *r < 1 || *r > kMaxR || *p < 1 || *p > kMaxP ||
        salt->size() < kMinSalt || salt->size() > kMaxSalt || hash->size() < kMinHash ||
        hash->size() > kMaxHash || 128 * *r * *n > kMaxMemory) {
        return std::nullopt;
    }
    return Params{*n, *r, *p, std::move(*salt), std::move(*hash)};
}

// A well-formed stored form whose hash no password produces in practice.
constexpr std::string_view kDummyHash =
    "scrypt$16384$8$1$00000000000000000000000000000000$"
    "0000000000000000000000000000000000000000000000000000000000000000";

}  // namespace

std::string hash_password(std::string_view password) {
    Params params;
    params.salt.resize(kSaltSize);
    crypto::random_bytes(params.salt);
    std::array<std::byte, kHashSize> out{};
    if (!run_scrypt(password, params, out)) {
        throw std::runtime_error(
            fmt::format("scrypt failed: {}", ERR_reason_error_string(ERR_get_error())));
    }
    std::string stored = fmt::format("{}${}${}${}${}${}", kPasswordScheme, params.n, params.r,
                                     params.p, to_hex(params.salt), to_hex(out));
    OPENSSL_cleanse(out.data(), out.size());
    return stored;
}

PasswordCheck verify_password(std::string_view password, std::string_view stored) {
    const auto params = parse(stored);
    if (!params) {
        spend_dummy_kdf(password);
        return PasswordCheck::Malformed;
    }
    Bytes out(params->hash.size());
    if (!run_scrypt(password, *params, out)) {
        ERR_clear_error();
        return PasswordCheck::Malformed;
    }
    const bool equal = CRYPTO_memcmp(out.data(), params->hash.data(), out.size()) == 0;
    OPENSSL_cleanse(out.data(), out.size());
    return equal ? PasswordCheck::Match : PasswordCheck::Mismatch;
}

void spend_dummy_kdf(std::string_view password) {
    static const Params kDummy = *parse(kDummyHash);
    std::array<std::byte, kHashSize> out{};
    if (!run_scrypt(password, kDummy, out)) {
        ERR_clear_error();
    }
    OPENSSL_cleanse(out.data(), out.size());
}

}  // namespace cyphonic::as
