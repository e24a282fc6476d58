// CipherSuite::open() on arbitrary bytes, for each suite (first input byte picks it), with the
// PROTOCOL.md §11 key. open() must never crash, read out of bounds or report more plaintext
// than its bound; a message that opens must have had a valid MAC/tag, so sealing the input as a
// body and opening it must give it back, and one flipped bit of that must fail.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cyphonic/crypto/cipher_suite.hpp"
#include "cyphonic/wire/types.hpp"

using cyphonic::crypto::CipherSuite;
using cyphonic::wire::CipherSuiteId;

namespace {
CipherSuite& suite(std::size_t i) {
    static std::array<std::byte, 32> key = [] {
        std::array<std::byte, 32> k{};
        for (std::size_t j = 0; j < k.size(); ++j) {
            k[j] = static_cast<std::byte>(j);
        }
        return k;
    }();
    static std::array<CipherSuite, 3> suites = {
        std::move(*CipherSuite::create(CipherSuiteId::AesCbcHmacMd5, cyphonic::ByteView(key))),
        std::move(*CipherSuite::create(CipherSuiteId::Aes256Gcm, cyphonic::ByteView(key))),
        std::move(*CipherSuite::create(CipherSuiteId::ChaCha20Poly1305, cyphonic::ByteView(key)))};
    return suites[i % suites.size()];
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    CipherSuite& cs = suite(data[0]);
    const auto input = std::as_bytes(std::span(data + 1, size - 1));

    std::vector<std::byte> plaintext(CipherSuite::max_plaintext_size(input.size()));
    const auto opened = cs.open(input, plaintext);
    if (opened.has_value() && *opened > plaintext.size()) {
        std::abort();
    }

    // Seal the input as a body behind a fixed header, open it again.
    if (input.size() > 2000) {
        return 0;
    }
    std::array<std::byte, 32> header{};
    header[4] = std::byte{1};
    header[6] = std::byte{0x10};
    std::vector<std::byte> sealed(cs.sealed_size(input.size()));
    const auto n = cs.seal(header, input, sealed);
    if (!n.has_value()) {
        std::abort();
    }
    sealed.resize(*n);
    std::vector<std::byte> back(CipherSuite::max_plaintext_size(sealed.size()));
    const auto round = cs.open(sealed, back);
    if (!round.has_value() || *round != input.size() ||
        (input.size() != 0 && std::memcmp(back.data(), input.data(), input.size()) != 0)) {
        std::abort();
    }
    const std::size_t bit =
        (input.empty() ? 0 : static_cast<std::size_t>(input[0])) * 131 % (sealed.size() * 8);
    sealed[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
    if (cs.open(sealed, back).has_value()) {
        std::abort();  // a flipped bit went unnoticed
    }
    return 0;
}
