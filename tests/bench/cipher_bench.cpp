// Capsule data-path cost per suite (PROTOCOL.md §5.1, §6.10): encode + seal on the sending side,
// header decode + open + Capsule decode on the receiving side. Prints figures, never pass/fail
// (STYLE.md §8). scripts/bench-crypto.sh runs it next to `openssl speed` for comparison.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <benchmark/benchmark.h>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/crypto/cipher_suite.hpp"
#include "cyphonic/crypto/random.hpp"
#include "cyphonic/wire/base_header.hpp"
#include "cyphonic/wire/messages.hpp"

namespace {

using cyphonic::Bytes;
using cyphonic::crypto::CipherSuite;
using cyphonic::wire::CipherSuiteId;

CipherSuite make_suite(CipherSuiteId id) {
    auto suite = CipherSuite::create(id, cyphonic::crypto::random_key());
    if (!suite.has_value()) {
        std::abort();
    }
    return std::move(*suite);
}

Bytes make_payload(std::size_t size) {
    Bytes payload(size);
    cyphonic::crypto::random_bytes(payload);
    return payload;
}

cyphonic::wire::BaseHeader capsule_header() {
    cyphonic::wire::BaseHeader h;
    h.transaction_id = 0x01020304;
    h.type = cyphonic::wire::MessageType::Capsule;
    h.sequence = 1;
    h.set_id(cyphonic::crypto::random_id<cyphonic::PathIdTag>());
    return h;
}

// Sender: Capsule body encode, Base Header encode, seal.
void seal_capsule(benchmark::State& state, CipherSuiteId id) {
    const auto payload_size = static_cast<std::size_t>(state.range(0));
    CipherSuite suite = make_suite(id);
    const Bytes payload = make_payload(payload_size);
    cyphonic::wire::BaseHeader header = capsule_header();
    std::array<std::byte, cyphonic::wire::kBaseHeaderSize> header_bytes{};
    Bytes body(payload_size + 4);
    Bytes out(suite.sealed_size(body.size()));

    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
        ++header.sequence;
        cyphonic::wire::encode(header, header_bytes);
        const std::size_t body_size =
            cyphonic::wire::encode(cyphonic::wire::Capsule{payload}, body);
        const auto sealed = suite.seal(header_bytes, std::span(body).first(body_size), out);
        if (!sealed.has_value()) {
            state.SkipWithError("seal failed");
            break;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(payload_size));
}

// Receiver: header decode (the split step of §5.5), open, Capsule body decode.
void open_capsule(benchmark::State& state, CipherSuiteId id) {
    const auto payload_size = static_cast<std::size_t>(state.range(0));
    CipherSuite suite = make_suite(id);
    const Bytes payload = make_payload(payload_size);
    std::array<std::byte, cyphonic::wire::kBaseHeaderSize> header_bytes{};
    cyphonic::wire::encode(capsule_header(), header_bytes);
    Bytes body(payload_size + 4);
    const std::size_t body_size = cyphonic::wire::encode(cyphonic::wire::Capsule{payload}, body);
    Bytes datagram(suite.sealed_size(body_size));
    if (!suite.seal(header_bytes, std::span(body).first(body_size), datagram).has_value()) {
        state.SkipWithError("seal failed");
        return;
    }
    Bytes plaintext(CipherSuite::max_plaintext_size(datagram.size()));

    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
        const auto header = cyphonic::wire::decode_udp_header(datagram);
        if (!header.has_value()) {
            state.SkipWithError("header decode failed");
            break;
        }
        const auto opened =
            suite.open(std::span(datagram).first(header->message_length), plaintext);
        if (!opened.has_value()) {
            state.SkipWithError("open failed");
            break;
        }
        const auto capsule = cyphonic::wire::decode_capsule(std::span(plaintext).first(*opened));
        if (!capsule.has_value() || capsule->payload.size() != payload_size) {
            state.SkipWithError("capsule decode failed");
            break;
        }
        benchmark::DoNotOptimize(capsule->payload.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(payload_size));
}

// Names: Seal/<suite>/<payload bytes>, Open/<suite>/<payload bytes>.
#define CYPHONIC_BENCH_SUITE(name)                             \
    BENCHMARK_CAPTURE(seal_capsule, name, CipherSuiteId::name) \
        ->Name("Seal/" #name)                                  \
        ->Arg(64)                                              \
        ->Arg(512)                                             \
        ->Arg(1400);                                           \
    BENCHMARK_CAPTURE(open_capsule, name, CipherSuiteId::name) \
        ->Name("Open/" #name)                                  \
        ->Arg(64)                                              \
        ->Arg(512)                                             \
        ->Arg(1400);

CYPHONIC_BENCH_SUITE(AesCbcHmacMd5)
CYPHONIC_BENCH_SUITE(Aes256Gcm)
CYPHONIC_BENCH_SUITE(ChaCha20Poly1305)

}  // namespace

BENCHMARK_MAIN();
