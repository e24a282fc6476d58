#include "cyphonic/app/metrics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace cyphonic::app {

void Histogram::observe(double seconds) noexcept {
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
        if (seconds <= kBounds[i]) {
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
        }
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    const double us = std::max(0.0, seconds * 1e6);
    sum_us_.fetch_add(static_cast<std::uint64_t>(std::llround(us)), std::memory_order_relaxed);
}

Family<Counter>& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels) {
    const std::lock_guard lock(mutex_);
    counters_.push_back(std::make_unique<Family<Counter>>(name, help, std::move(labels)));
    return *counters_.back();
}

Family<Gauge>& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
    const std::lock_guard lock(mutex_);
    gauges_.push_back(std::make_unique<Family<Gauge>>(name, help, std::move(labels)));
    return *gauges_.back();
}

Family<Histogram>& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                              std::vector<std::string> labels) {
    const std::lock_guard lock(mutex_);
    histograms_.push_back(std::make_unique<Family<Histogram>>(name, help, std::move(labels)));
    return *histograms_.back();
}

namespace {

std::string escape(const std::string& v) {
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra = {}) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", names[i], escape(values[i]));
    }
    if (!extra.empty()) {
        out += (out.empty() ? "" : ",") + extra;
    }
    return out.empty() ? out : "{" + out + "}";
}

}  // namespace

std::string MetricsRegistry::render() const {
    const std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& f : counters_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", f->name(), f->help(), f->name());
        f->for_each([&](const std::vector<std::string>& values, const Counter& c) {
            out += fmt::format("{}{} {}\n", f->name(), label_set(f->labels(), values), c.value());
        });
    }
    for (const auto& f : gauges_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", f->name(), f->help(), f->name());
        f->for_each([&](const std::vector<std::string>& values, const Gauge& g) {
            out += fmt::format("{}{} {}\n", f->name(), label_set(f->labels(), values), g.value());
        });
    }
    for (const auto& f : histograms_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", f->name(), f->help(), f->name());
        f->for_each([&](const std::vector<std::string>& values, const Histogram& h) {
            for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i) {
                out += fmt::format(
                    "{}_bucket{} {}\n", f->name(),
                    label_set(f->labels(), values, fmt::format("le=\"{}\"", Histogram::kBounds[i])),
                    h.bucket(i));
            }
            out += fmt::format("{}_bucket{} {}\n", f->name(),
                               label_set(f->labels(), values, "le=\"+Inf\""), h.count());
            out += fmt::format("{}_sum{} {}\n", f->name(), label_set(f->labels(), values),
                               static_cast<double>(h.sum_us()) / 1e6);
            out += fmt::format("{}_count{} {}\n", f->name(), label_set(f->labels(), values),
                               h.count());
        });
    }
    return out;
}

}  // namespace cyphonic::app
