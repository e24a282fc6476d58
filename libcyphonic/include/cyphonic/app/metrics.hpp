#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// Counters, gauges and histograms rendered in the Prometheus text format for /metrics.
// Thread-safe: values are atomics; creating a labelled child takes a lock, so hot paths keep
// the reference they got once (it stays valid as long as the registry lives).
namespace cyphonic::app {

class Counter {
public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t value() const noexcept {
        return value_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(std::int64_t d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
    [[nodiscard]] std::int64_t value() const noexcept {
        return value_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::int64_t> value_{0};
};

// Latency histogram in seconds with fixed buckets from 50 µs to 10 s.
class Histogram {
public:
    static constexpr std::array<double, 14> kBounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                       0.0025,  0.005,  0.01,    0.025,  0.05,
                                                       0.1,     0.5,    1.0,     10.0};
    void observe(double seconds) noexcept;
    [[nodiscard]] std::uint64_t count() const noexcept {
        return count_.load(std::memory_order_relaxed);
    }
    // Sum in microseconds, to keep it an integer atomic.
    [[nodiscard]] std::uint64_t sum_us() const noexcept {
        return sum_us_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t bucket(std::size_t i) const noexcept {
        return buckets_[i].load(std::memory_order_relaxed);
    }

private:
    std::array<std::atomic<std::uint64_t>, kBounds.size()> buckets_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_us_{0};
};

// A metric name with label names; children are created per label-value tuple.
template <class Metric>
class Family {
public:
    Family(std::string name, std::string help, std::vector<std::string> labels)
        : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

    // The child for these label values (as many as label names). Thread-safe.
    Metric& with(const std::vector<std::string>& values) {
        const std::lock_guard lock(mutex_);
        auto& slot = children_[values];
        if (!slot) {
            slot = std::make_unique<Metric>();
        }
        return *slot;
    }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::string& help() const noexcept { return help_; }
    [[nodiscard]] const std::vector<std::string>& labels() const noexcept { return labels_; }
    template <class Fn>
    void for_each(Fn&& fn) const {
        const std::lock_guard lock(mutex_);
        for (const auto& [values, metric] : children_) {
            fn(values, *metric);
        }
    }

private:
    std::string name_;
    std::string help_;
    std::vector<std::string> labels_;
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

class MetricsRegistry {
public:
    Family<Counter>& counter(const std::string& name, const std::string& help,
                             std::vector<std::string> labels = {});
    Family<Gauge>& gauge(const std::string& name, const std::string& help,
                         std::vector<std::string> labels = {});
    Family<Histogram>& histogram(const std::string& name, const std::string& help,
                                 std::vector<std::string> labels = {});

    // Prometheus text exposition format 0.0.4.
    [[nodiscard]] std::string render() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Family<Counter>>> counters_;
    std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
    std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
};

}  // namespace cyphonic::app
