#pragma once

#include <string>
#include <string_view>

// Password hashing of the AS (docs/DECISIONS.md AS-2): scrypt (OpenSSL EVP_PBE_scrypt),
// N=16384, r=8, p=1, a 16-byte random salt and a 32-byte output, stored as
//   scrypt$16384$8$1$<salt hex>$<hash hex>
// A password is never logged or stored in clear. Each call costs one KDF (~30 ms, 16 MiB):
// run them off the I/O thread. Thread-safe.
namespace cyphonic::as {

inline constexpr std::string_view kPasswordScheme = "scrypt";

// A new stored form for `password` with a fresh salt. Throws std::runtime_error if the CSPRNG
// or the KDF fails (a broken environment).
[[nodiscard]] std::string hash_password(std::string_view password);

enum class PasswordCheck {
    Match,
    Mismatch,
    Malformed,  // the stored form is not one this code can check (a KDF was still spent)
};

// Compares in constant time (CRYPTO_memcmp). Parameters are read from `stored` and bounded
// (N ≤ 2^17, r ≤ 16, p ≤ 4, at most 64 MiB) so a bad row cannot make the AS allocate without
// limit.
[[nodiscard]] PasswordCheck verify_password(std::string_view password, std::string_view stored);

// Spends one KDF at the default cost against a fixed dummy hash, so a login for a DeviceID that
// does not exist takes as long as one with a wrong password.
void spend_dummy_kdf(std::string_view password);

}  // namespace cyphonic::as
