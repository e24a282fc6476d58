// The adapter's worker pipeline (adapter-daemon/src/pipeline/ordered_pipeline.hpp, thesis §4.2.1):
// jobs/s through management → handling → staging for 1, 2 and 4 workers, with a trivial
// handler (the pipeline's own cost) and with AES-256-GCM over 1400 bytes via OpenSSL EVP (the
// adapter's real work), next to the same AES work on one thread without the pipeline. Prints
// figures, never pass/fail (STYLE.md §8).

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include "pipeline/ordered_pipeline.hpp"

namespace {

using cyphonic::adapterd::OrderedPipeline;

constexpr std::size_t kPayload = 1400;
constexpr std::size_t kTag = 16;
constexpr std::size_t kCapacity = 8192;
constexpr std::uint64_t kFlows = 64;
constexpr std::uint64_t kJobsPerRound = 50'000;

template <auto FreeFn>
struct FreeWith {
    template <class T>
    void operator()(T* p) const noexcept {
        FreeFn(p);
    }
};
using Cipher = std::unique_ptr<EVP_CIPHER, FreeWith<&EVP_CIPHER_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, FreeWith<&EVP_CIPHER_CTX_free>>;

// Packet buffers, as the adapter's buffer pool: twice the capacity, so a buffer is never in two
// jobs at once (job i and job i + 2 * capacity cannot both be in flight).
struct Buffers {
    std::vector<std::array<unsigned char, kPayload + kTag>> data =
        std::vector<std::array<unsigned char, kPayload + kTag>>(2 * kCapacity);
};

struct Job {
    std::uint32_t buffer = 0;
    std::uint64_t seq = 0;
};

// AES-256-GCM seal in place: the algorithm fetched once, one context per thread with the key
// set once, per packet only a new IV (STYLE.md §5).
class Sealer {
public:
    static Sealer& for_this_thread() {
        thread_local Sealer sealer;
        return sealer;
    }

    bool seal(std::uint64_t seq, std::span<unsigned char, kPayload + kTag> buffer) {
        std::array<unsigned char, 12> iv{};
        std::memcpy(iv.data(), &seq, sizeof seq);
        int n = 0;
        int final_n = 0;
        return EVP_EncryptInit_ex2(ctx_.get(), nullptr, nullptr, iv.data(), nullptr) == 1 &&
               EVP_EncryptUpdate(ctx_.get(), buffer.data(), &n, buffer.data(),
                                 static_cast<int>(kPayload)) == 1 &&
               EVP_EncryptFinal_ex(ctx_.get(), buffer.data() + n, &final_n) == 1 &&
               EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTag),
                                   buffer.data() + kPayload) == 1;
    }

private:
    Sealer() {
        static const Cipher cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
        const std::array<unsigned char, 32> key{1, 2, 3};
        if (!cipher || !ctx_ ||
            EVP_EncryptInit_ex2(ctx_.get(), cipher.get(), key.data(), nullptr, nullptr) != 1) {
            std::abort();
        }
    }

    CipherCtx ctx_{EVP_CIPHER_CTX_new()};
};

// Counts releases; the benchmark thread sleeps until a round is through.
class Done {
public:
    void add(std::size_t n) {
        std::lock_guard lock(mu_);
        count_ += n;
        if (count_ >= target_) {
            cv_.notify_one();
        }
    }

    void expect(std::uint64_t target) {
        std::lock_guard lock(mu_);
        target_ = target;
    }

    // Until the round is released, or nothing is left in flight (a job can be passed by the
    // bounded wait when a worker is preempted, and is then dropped, not released).
    template <class InFlight>
    void wait(InFlight in_flight) {
        std::unique_lock lock(mu_);
        while (
            !cv_.wait_for(lock, std::chrono::milliseconds(1), [&] { return count_ >= target_; })) {
            if (in_flight() == 0) {
                return;
            }
        }
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::uint64_t count_ = 0;
    std::uint64_t target_ = 0;
};

enum class Work : std::uint8_t { Trivial, Aes };

void through_pipeline(benchmark::State& state, Work work) {
    Buffers buffers;
    Done done;
    const auto workers = static_cast<unsigned>(state.range(0));
    OrderedPipeline<Job>::Handle handle;
    if (work == Work::Trivial) {
        handle = [](Job& job) {
            benchmark::DoNotOptimize(job);
            return true;
        };
    } else {
        handle = [&buffers](Job& job) {
            return Sealer::for_this_thread().seal(job.seq, buffers.data[job.buffer]);
        };
    }
    OrderedPipeline<Job> pipeline({.workers = workers, .staging = true, .capacity = kCapacity},
                                  std::move(handle),
                                  OrderedPipeline<Job>::ReleaseBatch(
                                      [&done](std::span<Job*> jobs) { done.add(jobs.size()); }));
    pipeline.start();

    std::uint64_t seq = 0;
    std::uint64_t refused = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
        done.expect(seq + kJobsPerRound);
        for (const std::uint64_t end = seq + kJobsPerRound; seq < end; ++seq) {
            const Job job{static_cast<std::uint32_t>(seq % (2 * kCapacity)), seq};
            while (!pipeline.submit(seq % kFlows, job)) {
                ++refused;  // full: the ingress thread would drop; here it waits a moment
                std::this_thread::sleep_for(std::chrono::microseconds(20));
            }
        }
        done.wait([&pipeline] { return pipeline.stats().in_flight; });
    }
    const auto stats = pipeline.stats();
    pipeline.stop();
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kJobsPerRound));
    state.counters["refused_per_job"] = benchmark::Counter(
        static_cast<double>(refused) / static_cast<double>(state.iterations() * kJobsPerRound));
    state.counters["released_after_wait"] =
        benchmark::Counter(static_cast<double>(stats.released_after_wait));
    state.counters["dropped_late"] = benchmark::Counter(static_cast<double>(stats.dropped_late));
}

void BM_PipelineTrivial(benchmark::State& state) {
    through_pipeline(state, Work::Trivial);
}
void BM_PipelineAes256Gcm1400(benchmark::State& state) {
    through_pipeline(state, Work::Aes);
}

// The baseline: the same AES work on this thread, no pipeline.
void BM_SingleThreadAes256Gcm1400(benchmark::State& state) {
    Buffers buffers;
    Sealer& sealer = Sealer::for_this_thread();
    std::uint64_t seq = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
        for (const std::uint64_t end = seq + kJobsPerRound; seq < end; ++seq) {
            if (!sealer.seal(seq, buffers.data[seq % (2 * kCapacity)])) {
                state.SkipWithError("seal failed");
                return;
            }
        }
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kJobsPerRound));
}

BENCHMARK(BM_SingleThreadAes256Gcm1400)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PipelineTrivial)->Arg(1)->Arg(2)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PipelineAes256Gcm1400)
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
