#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/signaling/sealed_message.hpp"
#include "cyphonic/wire/messages.hpp"

// The relay entries of the TRS (PROTOCOL.md §7.4, C20): one per PathID, holding what the TRS
// needs to check the path's Tunnel-Key messages and the two endpoint slots. Pure state: the
// caller passes the time; nothing here reads a clock or touches a socket.
namespace cyphonic::trs {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// An endpoint with an IPv4-mapped IPv6 address turned into IPv4 (as NMS does, §7.2), so one
// end is one endpoint whichever socket its datagram arrived on.
[[nodiscard]] Endpoint normalized(const Endpoint& e) noexcept;

struct RelayEntry {
    RelayEntry(signaling::Opener path_opener, TimePoint now) noexcept
        : opener(std::move(path_opener)), created(now), last_activity(now) {}

    // Opens the path's Tunnel-Key messages from either side: std::nullopt as own side, so
    // nothing is dropped as reflected and each side has its own anti-replay window (D15, §5.4).
    signaling::Opener opener;
    // Slot per side (index = signaling::Side): initiator = SENDER_SIDE clear, responder = set.
    std::array<std::optional<Endpoint>, 2> slots;
    TimePoint created;
    TimePoint last_activity;
};

// Not thread-safe: the I/O thread owns it.
class RelayTable {
public:
    RelayTable(std::size_t max_entries, std::chrono::seconds idle_timeout) noexcept
        : max_entries_(max_entries), idle_timeout_(idle_timeout) {}

    enum class CreateResult : std::uint8_t { Created, Replaced, Full };

    // Creates the entry for `path`, or replaces a known one (new key, fresh windows, empty
    // slots: §7.4 step 4, §7.8 step 3). A new PathID is refused with Full when the table holds
    // max_entries live entries. The error is a sentence (the cipher suite could not be set up).
    [[nodiscard]] Expected<CreateResult, std::string> create(const PathId& path,
                                                             wire::CipherSuiteId cipher,
                                                             const wire::KeyBytes& tunnel_key,
                                                             TimePoint now);

    // The live entry of `path`, or nullptr. An entry idle for idle_timeout or longer is removed
    // here, so expiry is exact whatever the sweep interval. The pointer is valid until the next
    // create(), find() or sweep().
    [[nodiscard]] RelayEntry* find(const PathId& path, TimePoint now);

    // The entry of `path` whether idle or not, without removing anything (tests, logs).
    [[nodiscard]] const RelayEntry* peek(const PathId& path) const {
        const auto it = entries_.find(path);
        return it == entries_.end() ? nullptr : &it->second;
    }

    // Removes every entry idle for idle_timeout or longer; returns how many.
    std::size_t sweep(TimePoint now);

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] std::size_t max_entries() const noexcept { return max_entries_; }
    [[nodiscard]] std::chrono::seconds idle_timeout() const noexcept { return idle_timeout_; }

private:
    [[nodiscard]] bool expired(const RelayEntry& e, TimePoint now) const noexcept {
        return now - e.last_activity >= idle_timeout_;
    }

    std::size_t max_entries_;
    std::chrono::seconds idle_timeout_;
    std::unordered_map<PathId, RelayEntry, Id128Hash> entries_;
};

}  // namespace cyphonic::trs
