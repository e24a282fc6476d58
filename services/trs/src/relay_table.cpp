#include "relay_table.hpp"

namespace cyphonic::trs {

Endpoint normalized(const Endpoint& e) noexcept {
    return {e.address.normalized(), e.port};
}

Expected<RelayTable::CreateResult, std::string> RelayTable::create(const PathId& path,
                                                                   wire::CipherSuiteId cipher,
                                                                   const wire::KeyBytes& tunnel_key,
                                                                   TimePoint now) {
    auto it = entries_.find(path);
    if (it == entries_.end() && entries_.size() >= max_entries_) {
        // Entries past their idle time may still be waiting for the sweep: make room first.
        sweep(now);
        if (entries_.size() >= max_entries_) {
            return CreateResult::Full;
        }
    }
    auto suite = crypto::CipherSuite::create(cipher, ByteView(tunnel_key));
    if (!suite.has_value()) {
        return fail(suite.error());
    }
    RelayEntry entry(signaling::Opener(std::move(*suite), std::nullopt), now);
    if (it != entries_.end()) {
        it->second = std::move(entry);
        return CreateResult::Replaced;
    }
    entries_.emplace(path, std::move(entry));
    return CreateResult::Created;
}

RelayEntry* RelayTable::find(const PathId& path, TimePoint now) {
    const auto it = entries_.find(path);
    if (it == entries_.end()) {
        return nullptr;
    }
    if (expired(it->second, now)) {
        entries_.erase(it);
        return nullptr;
    }
    return &it->second;
}

std::size_t RelayTable::sweep(TimePoint now) {
    return std::erase_if(entries_, [&](const auto& item) { return expired(item.second, now); });
}

}  // namespace cyphonic::trs
