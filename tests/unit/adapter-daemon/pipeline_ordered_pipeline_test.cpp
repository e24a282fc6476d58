// OrderedPipeline (adapter-daemon/src/pipeline/ordered_pipeline.hpp): per-flow order under
// concurrency, the bounded wait, skipped drops, flow independence, capacity and shutdown.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pipeline/ordered_pipeline.hpp"

namespace {

using cyphonic::adapterd::OrderedPipeline;
using namespace std::chrono_literals;

struct TestJob {
    std::uint64_t flow = 0;
    std::uint64_t seq = 0;
};

using Pipeline = OrderedPipeline<TestJob>;

// Collects released jobs per flow; Release runs on the staging thread, the test reads here.
class Collector {
public:
    void add(const TestJob& job) {
        {
            std::lock_guard lock(mu_);
            by_flow_[job.flow].push_back(job.seq);
            ++count_;
        }
        cv_.notify_all();
    }

    // True once `n` jobs in all have been released, false after `timeout`.
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
    }

    std::map<std::uint64_t, std::vector<std::uint64_t>> by_flow() {
        std::lock_guard lock(mu_);
        return by_flow_;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<std::uint64_t, std::vector<std::uint64_t>> by_flow_;
    std::size_t count_ = 0;
};

// Polls until `done()` holds or `timeout` passes.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout = 10s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

constexpr std::uint64_t kFlows = 8;
constexpr std::uint64_t kJobsPerFlow = 20'000;

// Flows interleaved round robin, as packets of concurrent connections arrive; retries when full.
void submit_load(Pipeline& pipeline) {
    for (std::uint64_t seq = 0; seq < kJobsPerFlow; ++seq) {
        for (std::uint64_t flow = 0; flow < kFlows; ++flow) {
            while (!pipeline.submit(flow, TestJob{flow, seq})) {
                std::this_thread::sleep_for(50us);
            }
        }
    }
}

// Handler of the concurrency tests: a random 0–200 µs, and every 64th job of a flow 1 ms more,
// so that without staging a later job of a flow certainly finishes first.
Pipeline::Handle sleepy_handler() {
    return [](TestJob& job) {
        thread_local std::minstd_rand rng(std::random_device{}());
        auto delay = std::chrono::microseconds(std::uniform_int_distribution<int>(0, 200)(rng));
        if (job.seq % 64 == 0) {
            delay += 1ms;
        }
        std::this_thread::sleep_for(delay);
        return true;
    };
}

// The check of the ordering test: every flow complete and strictly increasing.
::testing::AssertionResult in_order_and_complete(
    const std::map<std::uint64_t, std::vector<std::uint64_t>>& by_flow) {
    if (by_flow.size() != kFlows) {
        return ::testing::AssertionFailure() << by_flow.size() << " flows released";
    }
    for (const auto& [flow, seqs] : by_flow) {
        if (seqs.size() != kJobsPerFlow) {
            return ::testing::AssertionFailure()
                   << "flow " << flow << ": " << seqs.size() << " jobs released";
        }
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            if (seqs[i] != i) {
                return ::testing::AssertionFailure()
                       << "flow " << flow << ": position " << i << " holds seq " << seqs[i];
            }
        }
    }
    return ::testing::AssertionSuccess();
}

TEST(OrderedPipeline, ReleasesEveryFlowInSubmissionOrder) {
    Collector out;
    // A wait far above any handler time: this test is about order alone, nothing may be skipped.
    Pipeline pipeline({.workers = 4, .staging = true, .max_wait = 10s}, sleepy_handler(),
                      [&](TestJob& job) { out.add(job); });
    pipeline.start();
    submit_load(pipeline);
    ASSERT_TRUE(out.wait_for(kFlows * kJobsPerFlow, 120s));
    EXPECT_TRUE(in_order_and_complete(out.by_flow()));
    // The counters follow Release; in_flight is the last to move.
    ASSERT_TRUE(eventually([&] { return pipeline.stats().in_flight == 0; }));
    const auto stats = pipeline.stats();
    EXPECT_EQ(stats.released, kFlows * kJobsPerFlow);
    EXPECT_EQ(stats.handled, kFlows * kJobsPerFlow);
    EXPECT_EQ(stats.released_after_wait, 0U);
}

// The same load without staging reorders: the ordering check above can fail.
TEST(OrderedPipeline, WithoutStagingTheSameLoadIsReordered) {
    Collector out;
    Pipeline pipeline({.workers = 4, .staging = false, .max_wait = 10s}, sleepy_handler(),
                      [&](TestJob& job) { out.add(job); });
    pipeline.start();
    submit_load(pipeline);
    ASSERT_TRUE(out.wait_for(kFlows * kJobsPerFlow, 120s));
    const auto by_flow = out.by_flow();
    EXPECT_FALSE(in_order_and_complete(by_flow));
    std::size_t reordered_flows = 0;
    for (const auto& [flow, seqs] : by_flow) {
        EXPECT_EQ(seqs.size(), kJobsPerFlow) << "flow " << flow;  // reordered, not lost
        reordered_flows += std::is_sorted(seqs.begin(), seqs.end()) ? 0 : 1;
    }
    EXPECT_GE(reordered_flows, 1U);
}

TEST(OrderedPipeline, DroppedJobIsSkippedWithoutWaiting) {
    Collector out;
    // A drop must not be waited for: with a 10 s wait any waiting would show as a timeout.
    Pipeline pipeline(
        {.workers = 2, .max_wait = 10s}, [](TestJob& job) { return job.seq % 3 != 1; },
        [&](TestJob& job) { out.add(job); });
    pipeline.start();
    constexpr std::uint64_t kJobs = 300;
    for (std::uint64_t seq = 0; seq < kJobs; ++seq) {
        ASSERT_TRUE(pipeline.submit(7, TestJob{7, seq}));
    }
    ASSERT_TRUE(out.wait_for(kJobs / 3 * 2, 2s));
    std::vector<std::uint64_t> expected;
    for (std::uint64_t seq = 0; seq < kJobs; ++seq) {
        if (seq % 3 != 1) {
            expected.push_back(seq);
        }
    }
    EXPECT_EQ(out.by_flow()[7], expected);
    EXPECT_TRUE(eventually([&] { return pipeline.stats().in_flight == 0; }, 2s));
    const auto stats = pipeline.stats();
    EXPECT_EQ(stats.dropped_handler, kJobs / 3);
    EXPECT_EQ(stats.released_after_wait, 0U);
}

// A 50 ms job with a 2 ms wait: the later jobs of its flow go out before it finishes, and it is
// dropped rather than released out of order.
TEST(OrderedPipeline, SlowJobIsPassedAfterMaxWaitAndDroppedLate) {
    std::atomic<bool> slow_finished{false};
    std::atomic<int> released_before_slow_finished{0};
    Collector out;
    Pipeline pipeline(
        {.workers = 2, .max_wait = 2ms},
        [&](TestJob& job) {
            if (job.seq == 0) {
                std::this_thread::sleep_for(50ms);
                slow_finished = true;
            }
            return true;
        },
        [&](TestJob& job) {
            if (!slow_finished) {
                ++released_before_slow_finished;
            }
            out.add(job);
        });
    pipeline.start();
    constexpr std::uint64_t kJobs = 10;
    for (std::uint64_t seq = 0; seq < kJobs; ++seq) {
        ASSERT_TRUE(pipeline.submit(1, TestJob{1, seq}));
    }
    ASSERT_TRUE(out.wait_for(kJobs - 1, 2s));
    EXPECT_EQ(released_before_slow_finished, static_cast<int>(kJobs - 1));
    ASSERT_TRUE(eventually([&] { return pipeline.stats().in_flight == 0; }, 2s));
    std::vector<std::uint64_t> expected;
    for (std::uint64_t seq = 1; seq < kJobs; ++seq) {
        expected.push_back(seq);
    }
    EXPECT_EQ(out.by_flow()[1], expected);  // the slow job never comes out
    const auto stats = pipeline.stats();
    EXPECT_EQ(stats.released, kJobs - 1);
    // Those done when the wait ran out; one finishing later (a preempted worker) is an
    // ordinary release behind the skip.
    EXPECT_GE(stats.released_after_wait, 1U);
    EXPECT_LE(stats.released_after_wait, kJobs - 1);
    EXPECT_EQ(stats.dropped_late, 1U);
    EXPECT_EQ(stats.handled, kJobs);

    // The flow goes on in order after the skip.
    ASSERT_TRUE(pipeline.submit(1, TestJob{1, kJobs}));
    ASSERT_TRUE(out.wait_for(kJobs, 2s));
    EXPECT_EQ(out.by_flow()[1].back(), kJobs);
}

TEST(OrderedPipeline, StuckFlowDoesNotDelayOtherFlows) {
    std::atomic<bool> stuck_finished{false};
    std::atomic<int> b_before_stuck_finished{0};
    Collector out;
    Pipeline pipeline(
        {.workers = 2, .max_wait = 10s},
        [&](TestJob& job) {
            if (job.flow == 'A' && job.seq == 0) {
                std::this_thread::sleep_for(300ms);
                stuck_finished = true;
            }
            return true;
        },
        [&](TestJob& job) {
            if (job.flow == 'B' && !stuck_finished) {
                ++b_before_stuck_finished;
            }
            out.add(job);
        });
    pipeline.start();
    constexpr std::uint64_t kJobs = 200;
    for (std::uint64_t seq = 0; seq < kJobs; ++seq) {
        ASSERT_TRUE(pipeline.submit('A', TestJob{'A', seq}));
        ASSERT_TRUE(pipeline.submit('B', TestJob{'B', seq}));
    }
    ASSERT_TRUE(out.wait_for(2 * kJobs, 5s));
    EXPECT_EQ(b_before_stuck_finished, static_cast<int>(kJobs));
    const auto by_flow = out.by_flow();
    ASSERT_EQ(by_flow.at('A').size(), kJobs);  // A waited (10 s bound) and stayed in order
    EXPECT_TRUE(std::is_sorted(by_flow.at('A').begin(), by_flow.at('A').end()));
    EXPECT_TRUE(std::is_sorted(by_flow.at('B').begin(), by_flow.at('B').end()));
}

TEST(OrderedPipeline, SubmitFailsAtCapacityAndCounts) {
    Collector out;
    Pipeline pipeline(
        {.workers = 1, .capacity = 4}, [](TestJob&) { return true; },
        [&](TestJob& job) { out.add(job); });
    for (std::uint64_t seq = 0; seq < 4; ++seq) {
        ASSERT_TRUE(pipeline.submit(0, TestJob{0, seq}));  // queued until start()
    }
    EXPECT_FALSE(pipeline.submit(0, TestJob{0, 4}));
    EXPECT_FALSE(pipeline.submit(1, TestJob{1, 0}));
    auto stats = pipeline.stats();
    EXPECT_EQ(stats.dropped_full, 2U);
    EXPECT_EQ(stats.submitted, 4U);
    EXPECT_EQ(stats.in_flight, 4U);

    pipeline.start();
    ASSERT_TRUE(out.wait_for(4, 2s));
    ASSERT_TRUE(eventually([&] { return pipeline.stats().in_flight == 0; }, 2s));
    EXPECT_TRUE(pipeline.submit(0, TestJob{0, 5}));  // room again
    ASSERT_TRUE(out.wait_for(5, 2s));
    EXPECT_EQ(out.by_flow()[0], (std::vector<std::uint64_t>{0, 1, 2, 3, 5}));
}

TEST(OrderedPipeline, StopWithJobsInFlightReturnsAndAccountsForEveryJob) {
    std::atomic<std::uint64_t> released{0};
    Pipeline pipeline(
        {.workers = 3, .max_wait = 1ms},
        [](TestJob& job) {
            std::this_thread::sleep_for(std::chrono::microseconds(job.seq % 7 * 100));
            return job.seq % 11 != 0;
        },
        [&](TestJob&) { ++released; });
    pipeline.start();
    std::uint64_t accepted = 0;
    for (std::uint64_t seq = 0; seq < 3000; ++seq) {
        accepted += pipeline.submit(seq % 5, TestJob{seq % 5, seq}) ? 1 : 0;
    }
    std::this_thread::sleep_for(5ms);
    pipeline.stop();
    const std::uint64_t released_at_stop = released;
    EXPECT_FALSE(pipeline.submit(0, TestJob{}));
    std::this_thread::sleep_for(10ms);
    EXPECT_EQ(released, released_at_stop);  // nothing after stop()

    const auto stats = pipeline.stats();
    EXPECT_EQ(stats.in_flight, 0U);
    EXPECT_EQ(stats.submitted, accepted);
    EXPECT_EQ(stats.released, released_at_stop);
    // Every accepted job ends exactly once: released, dropped by its handler, late, or at stop
    // (which also counts the one refused submit above).
    EXPECT_EQ(stats.released + stats.dropped_handler + stats.dropped_late + stats.dropped_stopped,
              stats.submitted + 1);
    pipeline.stop();  // again: nothing happens
}

TEST(OrderedPipeline, DestroyedWithoutStartDropsQueuedJobs) {
    int released = 0;
    {
        Pipeline pipeline(
            {}, [](TestJob&) { return true; }, [&](TestJob&) { ++released; });
        EXPECT_TRUE(pipeline.submit(0, TestJob{}));
    }
    EXPECT_EQ(released, 0);
}

TEST(OrderedPipeline, ReleaseBatchGetsJobsInFlowOrder) {
    std::mutex mu;
    std::vector<std::uint64_t> seen;
    std::size_t calls = 0;
    Pipeline pipeline(
        {.workers = 2, .max_wait = 10s}, [](TestJob&) { return true; },
        Pipeline::ReleaseBatch([&](std::span<TestJob*> jobs) {
            std::lock_guard lock(mu);
            ++calls;
            for (TestJob* job : jobs) {
                seen.push_back(job->seq);
            }
        }));
    constexpr std::uint64_t kJobs = 1000;
    for (std::uint64_t seq = 0; seq < kJobs; ++seq) {
        ASSERT_TRUE(pipeline.submit(3, TestJob{3, seq}));
    }
    pipeline.start();
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mu);
        return seen.size() == kJobs;
    }));
    std::lock_guard lock(mu);
    for (std::uint64_t seq = 0; seq < kJobs; ++seq) {
        ASSERT_EQ(seen[seq], seq);
    }
    EXPECT_GE(calls, 1U);
}

}  // namespace
