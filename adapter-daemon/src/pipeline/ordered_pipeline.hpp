#pragma once

// The adapter's data pipeline (thesis §4.2.1, ARCHITECTURE.md "How a packet flows"):
//
//   submit()  management stage  the caller's ingress thread: takes a free slot, stamps the
//                               flow's arrival sequence number, appends the slot to the flow's
//                               FIFO and to the bounded work queue;
//   worker_loop() handling stage `workers` threads run Handle on the job (seal/open in place);
//   staging_loop() staging stage one thread releases each flow's FIFO head once it is handled,
//                               skips heads the handler dropped, and gives up on a head that is
//                               still unhandled `max_wait` after a later job of its flow finished.
//
// Bounded: at most `capacity` jobs are in flight (submitted and not yet released or dropped);
// submit() fails beyond that and counts it. Idle threads sleep on condition variables (nobody
// spins) and are notified only when they sleep. The staging thread takes completions and calls
// Release in batches; a worker takes one job at a time, so a slow job never holds jobs of other
// flows behind it in the same worker (kMaxWorkerBatch = 16 is ~2x faster with a trivial handler,
// no faster with AES-GCM on 2 cores, and would break that).
//
// Ownership of a slot moves with it: the submitter fills it (under mu_), one worker handles it
// (after taking it from the work queue under work_mu_), the staging thread releases and frees
// it (after receiving it under done_mu_). The mutexes order each hand-over, so the job itself
// needs no atomics. Flow bookkeeping (FIFO links, phases, the flow table) lives under mu_,
// shared by submitters and the staging thread.

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <queue>
#include <span>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cyphonic::adapterd {

template <class Job>
class OrderedPipeline {
public:
    struct Options {
        unsigned workers = 4;                      // handling-stage threads (>= 1)
        bool staging = true;                       // false: release in completion order (tests)
        std::chrono::microseconds max_wait{3000};  // bounded wait of the staging stage
        std::size_t capacity = 8192;               // jobs in flight; submit() fails beyond
    };

    struct Stats {
        std::uint64_t submitted = 0;            // accepted by submit()
        std::uint64_t handled = 0;              // Handle returned true
        std::uint64_t released = 0;             // given to Release
        std::uint64_t dropped_full = 0;         // submit() at capacity
        std::uint64_t dropped_handler = 0;      // Handle returned false (or threw)
        std::uint64_t released_after_wait = 0;  // released past an unhandled earlier job
        std::uint64_t in_flight = 0;            // submitted, not yet released or dropped
        std::uint64_t dropped_late = 0;         // handled after its flow moved past it
        std::uint64_t dropped_stopped = 0;      // in flight at stop(), or submitted after it
    };

    // Handling stage, on a worker thread; may run concurrently for different jobs (also of the
    // same flow). Returns false to drop the job: staging then skips it without waiting.
    using Handle = std::function<bool(Job&)>;
    // Staging stage, always on the one staging thread: each flow's jobs in submission order.
    using Release = std::function<void(Job&)>;
    // As Release, several jobs per call (e.g. for one sendmmsg); the pointers and jobs are
    // valid for the call only. Per flow the span keeps submission order.
    using ReleaseBatch = std::function<void(std::span<Job*>)>;

    OrderedPipeline(Options options, Handle handle, Release release)
        : OrderedPipeline(options, std::move(handle), batch_of(std::move(release))) {}

    OrderedPipeline(Options options, Handle handle, ReleaseBatch release)
        : options_(options), handle_(std::move(handle)), release_(std::move(release)) {
        if (options_.workers == 0 || options_.capacity == 0 ||
            options_.capacity > std::numeric_limits<std::uint32_t>::max() - 1) {
            throw std::invalid_argument("OrderedPipeline: workers and capacity must be >= 1");
        }
        slots_ = std::vector<Slot>(options_.capacity);
        free_.reserve(options_.capacity);
        for (std::size_t i = options_.capacity; i-- > 0;) {
            free_.push_back(static_cast<std::uint32_t>(i));
        }
        work_.assign(options_.capacity, kNone);
        flows_.reserve(std::min<std::size_t>(options_.capacity, 1024));
    }

    OrderedPipeline(const OrderedPipeline&) = delete;
    OrderedPipeline& operator=(const OrderedPipeline&) = delete;

    ~OrderedPipeline() { stop(); }

    // Starts the worker and staging threads; once. Jobs submitted before start() wait for it.
    void start() {
        std::lock_guard lifecycle(lifecycle_mu_);
        if (started_ || stopped_) {
            return;
        }
        started_ = true;
        // Named for `top -H`, `ps -L` and tests that pin the staging thread to one CPU.
        staging_thread_ = std::thread([this] {
            ::pthread_setname_np(::pthread_self(), "cy-stage");
            staging_loop();
        });
        workers_.reserve(options_.workers);
        for (unsigned i = 0; i < options_.workers; ++i) {
            workers_.emplace_back([this] {
                ::pthread_setname_np(::pthread_self(), "cy-work");
                worker_loop();
            });
        }
    }

    // Joins all threads (waiting for handlers already running); jobs not yet released are
    // destroyed unreleased and counted in dropped_stopped; submit() fails from then on. Release
    // is never called after stop() returns. Not from Handle or Release (it would join itself).
    void stop() noexcept {
        std::lock_guard lifecycle(lifecycle_mu_);
        if (stopped_) {
            return;
        }
        {
            std::lock_guard lock(mu_);
            stopped_ = true;  // no submit() from here on
        }
        {
            std::lock_guard lock(work_mu_);
            stop_workers_ = true;
        }
        work_cv_.notify_all();
        for (auto& worker : workers_) {
            worker.join();
        }
        workers_.clear();
        {
            std::lock_guard lock(done_mu_);
            stop_staging_ = true;
        }
        done_cv_.notify_all();
        if (staging_thread_.joinable()) {
            staging_thread_.join();
        }
        // Every thread is gone: whatever is still in a slot is dropped (a job its handler
        // dropped is counted already).
        std::lock_guard lock(mu_);
        free_.clear();
        for (std::size_t i = slots_.size(); i-- > 0;) {
            Slot& slot = slots_[i];
            if (slot.phase != Phase::Free && slot.phase != Phase::Dropped) {
                bump(dropped_stopped_);
            }
            slot.job.reset();
            slot.phase = Phase::Free;
            free_.push_back(static_cast<std::uint32_t>(i));
        }
        flows_.clear();
        in_flight_.store(0, std::memory_order_release);
    }

    // Management stage. Thread-safe (a short lock): the LAN-receive and UDP-receive threads may
    // each submit their own direction. Order within a flow is the order of the submit() calls,
    // so each flow should have one producer. Returns false, counted, at capacity or after stop().
    bool submit(std::uint64_t flow, Job job) {
        std::uint32_t index = kNone;
        {
            std::lock_guard lock(mu_);
            if (stopped_) {
                bump(dropped_stopped_);
                return false;
            }
            if (free_.empty()) {
                bump(dropped_full_);
                return false;
            }
            index = free_.back();
            free_.pop_back();
            Slot& slot = slots_[index];
            slot.job.emplace(std::move(job));
            slot.phase = Phase::Queued;
            slot.next = kNone;
            if (options_.staging) {
                FlowState& state = flow_state(flow);
                slot.flow = &state;
                slot.seq = state.next_seq++;
                if (state.tail == kNone) {
                    state.head = index;
                } else {
                    slots_[state.tail].next = index;
                }
                state.tail = index;
            } else {
                slot.flow = nullptr;
            }
            bump(submitted_);
            in_flight_.fetch_add(1, std::memory_order_relaxed);
        }
        bool wake = false;
        {
            std::lock_guard lock(work_mu_);
            // Never overflows: every queued index is a distinct taken slot.
            work_[(work_head_ + work_count_) % work_.size()] = index;
            ++work_count_;
            wake = idle_workers_ > 0;
        }
        if (wake) {
            work_cv_.notify_one();
        }
        return true;
    }

    // Thread-safe; each counter is read on its own (a snapshot, not a consistent cut).
    Stats stats() const {
        Stats s;
        // in_flight first: a job leaves it after its other counters moved (release/acquire),
        // so in_flight == 0 means the other counters are final.
        s.in_flight = in_flight_.load(std::memory_order_acquire);
        s.submitted = submitted_.load(std::memory_order_relaxed);
        s.handled = handled_.load(std::memory_order_relaxed);
        s.released = released_.load(std::memory_order_relaxed);
        s.dropped_full = dropped_full_.load(std::memory_order_relaxed);
        s.dropped_handler = dropped_handler_.load(std::memory_order_relaxed);
        s.released_after_wait = released_after_wait_.load(std::memory_order_relaxed);
        s.dropped_late = dropped_late_.load(std::memory_order_relaxed);
        s.dropped_stopped = dropped_stopped_.load(std::memory_order_relaxed);
        return s;
    }

private:
    using Clock = std::chrono::steady_clock;
    static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
    static constexpr std::size_t kMaxWorkerBatch = 1;

    // Where a slot is; written under mu_ only (by submit and the staging thread).
    enum class Phase : std::uint8_t {
        Free,
        Queued,     // submitted, its completion not yet seen by staging
        Handled,    // completed with true, waiting in its flow's FIFO
        Dropped,    // completed with false, waiting in its flow's FIFO to be skipped
        Abandoned,  // unlinked by the bounded wait; dropped when its completion arrives
    };

    struct FlowState {
        std::uint32_t head = kNone;  // FIFO of slots in submission order, linked by Slot::next
        std::uint32_t tail = kNone;
        std::uint64_t next_seq = 0;      // the management stage's arrival sequence number
        std::uint64_t next_release = 0;  // debug check: releases are in sequence order
        bool timer_armed = false;
        std::uint64_t id = 0;
    };

    // Cache-line aligned: workers write their jobs side by side.
    struct alignas(64) Slot {
        std::optional<Job> job;       // the submitter, then one worker, then staging
        bool ok = false;              // Handle's verdict: worker writes, staging reads
        Phase phase = Phase::Free;    // under mu_
        std::uint32_t next = kNone;   // under mu_
        FlowState* flow = nullptr;    // under mu_ (node pointers of flows_ are stable)
        std::uint64_t seq = 0;        // under mu_
        Clock::time_point done_at{};  // staging thread: when it saw the completion
    };

    struct Timer {
        Clock::time_point deadline;
        std::uint64_t flow;
        bool operator>(const Timer& other) const { return deadline > other.deadline; }
    };

    static ReleaseBatch batch_of(Release release) {
        return [release = std::move(release)](std::span<Job*> jobs) {
            for (Job* job : jobs) {
                release(*job);
            }
        };
    }

    static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
        // Each counter has one writer at a time (under a lock or on one thread): no RMW needed.
        counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    // Under mu_. Flows are kept while empty so a busy flow is not re-inserted per packet;
    // the table is swept of empty flows when it outgrows twice the capacity, which bounds it.
    FlowState& flow_state(std::uint64_t flow) {
        auto it = flows_.find(flow);
        if (it != flows_.end()) {
            return it->second;
        }
        if (flows_.size() >= 2 * options_.capacity) {
            std::erase_if(flows_, [](const auto& entry) {
                return entry.second.head == kNone && !entry.second.timer_armed;
            });
        }
        FlowState& state = flows_[flow];
        state.id = flow;
        return state;
    }

    // ---- handling stage -----------------------------------------------------------------

    void worker_loop() {
        std::array<std::uint32_t, kMaxWorkerBatch> batch{};
        for (;;) {
            std::size_t n = 0;
            {
                std::unique_lock lock(work_mu_);
                while (work_count_ == 0 && !stop_workers_) {
                    ++idle_workers_;
                    work_cv_.wait(lock);
                    --idle_workers_;
                }
                if (stop_workers_) {
                    return;
                }
                // Take a share, not the lot, so the other workers stay busy.
                n = std::clamp<std::size_t>(work_count_ / options_.workers, 1, kMaxWorkerBatch);
                for (std::size_t i = 0; i < n; ++i) {
                    batch[i] = work_[work_head_];
                    work_head_ = (work_head_ + 1) % work_.size();
                }
                work_count_ -= n;
            }
            for (std::size_t i = 0; i < n; ++i) {
                Slot& slot = slots_[batch[i]];
                try {
                    slot.ok = handle_(*slot.job);
                } catch (...) {
                    slot.ok = false;  // no exception crosses the packet path (STYLE.md §3)
                }
            }
            bool wake = false;
            {
                std::lock_guard lock(done_mu_);
                done_.insert(done_.end(), batch.begin(), batch.begin() + n);
                wake = staging_waiting_;
            }
            if (wake) {
                done_cv_.notify_one();
            }
        }
    }

    // ---- staging stage ------------------------------------------------------------------

    void staging_loop() {
        std::vector<std::uint32_t> completed;
        std::vector<std::uint32_t> to_release;
        std::vector<Job*> jobs;
        std::vector<std::uint32_t> to_free;
        for (;;) {
            {
                std::unique_lock lock(done_mu_);
                while (done_.empty() && !stop_staging_) {
                    staging_waiting_ = true;
                    if (timers_.empty()) {
                        done_cv_.wait(lock);
                    } else if (done_cv_.wait_until(lock, timers_.top().deadline) ==
                               std::cv_status::timeout) {
                        staging_waiting_ = false;
                        break;
                    }
                    staging_waiting_ = false;
                }
                if (stop_staging_) {
                    return;
                }
                completed.swap(done_);
            }
            const Clock::time_point now = Clock::now();
            {
                std::lock_guard lock(mu_);
                for (const std::uint32_t index : completed) {
                    on_completed(index, now, to_release, to_free);
                }
                while (!timers_.empty() && timers_.top().deadline <= now) {
                    const std::uint64_t flow = timers_.top().flow;
                    timers_.pop();
                    on_timer(flow, now, to_release, to_free);
                }
            }
            completed.clear();
            if (!to_release.empty()) {
                jobs.clear();
                for (const std::uint32_t index : to_release) {
                    jobs.push_back(&*slots_[index].job);
                }
                try {
                    release_(std::span<Job*>(jobs));
                } catch (...) {
                    // Release owns its failures; the jobs count as released either way.
                }
                bump(released_, to_release.size());
                to_free.insert(to_free.end(), to_release.begin(), to_release.end());
                to_release.clear();
            }
            if (!to_free.empty()) {
                for (const std::uint32_t index : to_free) {
                    slots_[index].job.reset();  // outside the lock: a job may own a buffer
                }
                std::lock_guard lock(mu_);
                for (const std::uint32_t index : to_free) {
                    slots_[index].phase = Phase::Free;
                    free_.push_back(index);
                }
                in_flight_.fetch_sub(to_free.size(), std::memory_order_release);
                to_free.clear();
            }
        }
    }

    // Under mu_, staging thread.
    void on_completed(std::uint32_t index, Clock::time_point now,
                      std::vector<std::uint32_t>& to_release, std::vector<std::uint32_t>& to_free) {
        Slot& slot = slots_[index];
        if (slot.ok) {
            bump(handled_);
        } else {
            bump(dropped_handler_);
        }
        if (slot.phase == Phase::Abandoned) {
            if (slot.ok) {
                bump(dropped_late_);  // its flow has moved on: releasing it would reorder
            }
            to_free.push_back(index);
            return;
        }
        assert(slot.phase == Phase::Queued);
        if (!options_.staging) {
            (slot.ok ? to_release : to_free).push_back(index);
            return;
        }
        slot.phase = slot.ok ? Phase::Handled : Phase::Dropped;
        slot.done_at = now;
        FlowState& flow = *slot.flow;
        // Every head staging has seen finish is gone already, so the head is unfinished unless
        // it is this job.
        const bool behind_head = flow.head != index;
        advance(flow, to_release, to_free);
        if (slot.ok && behind_head && !flow.timer_armed) {
            // A later job is ready and the head is not: the bounded wait starts now.
            flow.timer_armed = true;
            timers_.push(Timer{now + options_.max_wait, flow.id});
        }
    }

    // Under mu_. Releases the flow's finished heads in order.
    void advance(FlowState& flow, std::vector<std::uint32_t>& to_release,
                 std::vector<std::uint32_t>& to_free) {
        while (flow.head != kNone) {
            const std::uint32_t index = flow.head;
            Slot& slot = slots_[index];
            if (slot.phase == Phase::Handled) {
                assert(slot.seq >= flow.next_release);
                flow.next_release = slot.seq + 1;
                to_release.push_back(index);
            } else if (slot.phase == Phase::Dropped) {
                to_free.push_back(index);
            } else {
                return;  // Queued: the head is still being handled
            }
            pop_head(flow);
        }
    }

    void pop_head(FlowState& flow) {
        Slot& slot = slots_[flow.head];
        flow.head = slot.next;
        slot.next = kNone;
        if (flow.head == kNone) {
            flow.tail = kNone;
        }
    }

    // Under mu_. The bounded wait: every job ahead of a handled job that finished at least
    // max_wait ago is given up on; the handled jobs among them are released. Idempotent, so a
    // stale timer (its flow emptied, or swept and re-created) does no harm.
    void on_timer(std::uint64_t id, Clock::time_point now, std::vector<std::uint32_t>& to_release,
                  std::vector<std::uint32_t>& to_free) {
        auto it = flows_.find(id);
        if (it == flows_.end()) {
            return;
        }
        FlowState& flow = it->second;
        flow.timer_armed = false;
        const Clock::time_point cutoff = now - options_.max_wait;
        std::uint32_t last = kNone;  // the last handled job old enough to force the way
        Clock::time_point earliest_ready = Clock::time_point::max();
        for (std::uint32_t i = flow.head; i != kNone; i = slots_[i].next) {
            if (slots_[i].phase == Phase::Handled) {
                if (slots_[i].done_at <= cutoff) {
                    last = i;
                }
                earliest_ready = std::min(earliest_ready, slots_[i].done_at);
            }
        }
        if (last != kNone) {
            // The head is unfinished (advance() ran on every completion), so each handled job
            // released here, up to `last` and the ready run behind it, passes a skipped one.
            const std::size_t released_before = to_release.size();
            for (bool done = false; !done;) {
                const std::uint32_t index = flow.head;
                done = index == last;
                Slot& slot = slots_[index];
                pop_head(flow);
                if (slot.phase == Phase::Queued) {
                    slot.phase = Phase::Abandoned;  // freed when its completion arrives
                } else if (slot.phase == Phase::Dropped) {
                    to_free.push_back(index);
                } else {
                    flow.next_release = slot.seq + 1;
                    to_release.push_back(index);
                }
            }
            advance(flow, to_release, to_free);
            bump(released_after_wait_, to_release.size() - released_before);
            // Re-arm for what is left behind the new head.
            earliest_ready = Clock::time_point::max();
            for (std::uint32_t i = flow.head; i != kNone; i = slots_[i].next) {
                if (slots_[i].phase == Phase::Handled) {
                    earliest_ready = std::min(earliest_ready, slots_[i].done_at);
                }
            }
        }
        if (earliest_ready != Clock::time_point::max()) {
            flow.timer_armed = true;
            timers_.push(Timer{earliest_ready + options_.max_wait, id});
        }
    }

    const Options options_;
    const Handle handle_;
    const ReleaseBatch release_;

    std::vector<Slot> slots_;

    // Management state, shared by submitters and the staging thread.
    std::mutex mu_;
    std::vector<std::uint32_t> free_;  // LIFO: a recently used slot is still in the cache
    std::unordered_map<std::uint64_t, FlowState> flows_;
    bool stopped_ = false;

    // Work queue: submitters → workers (a ring; never more entries than taken slots).
    std::mutex work_mu_;
    std::condition_variable work_cv_;
    std::vector<std::uint32_t> work_;
    std::size_t work_head_ = 0;
    std::size_t work_count_ = 0;
    unsigned idle_workers_ = 0;
    bool stop_workers_ = false;

    // Completions: workers → staging thread.
    std::mutex done_mu_;
    std::condition_variable done_cv_;
    std::vector<std::uint32_t> done_;
    bool staging_waiting_ = false;
    bool stop_staging_ = false;

    // Staging thread only.
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;

    std::mutex lifecycle_mu_;
    bool started_ = false;
    std::vector<std::thread> workers_;
    std::thread staging_thread_;

    std::atomic<std::uint64_t> submitted_{0};
    std::atomic<std::uint64_t> handled_{0};
    std::atomic<std::uint64_t> released_{0};
    std::atomic<std::uint64_t> dropped_full_{0};
    std::atomic<std::uint64_t> dropped_handler_{0};
    std::atomic<std::uint64_t> released_after_wait_{0};
    std::atomic<std::uint64_t> in_flight_{0};
    std::atomic<std::uint64_t> dropped_late_{0};
    std::atomic<std::uint64_t> dropped_stopped_{0};
};

}  // namespace cyphonic::adapterd
