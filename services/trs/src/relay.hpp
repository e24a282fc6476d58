#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "handlers.hpp"
#include "metrics.hpp"
#include "relay_table.hpp"

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/wire/base_header.hpp"

// The TRS's decisions (PROTOCOL.md §7.4 "TRS forwarding rules", C20, D15, D17): one datagram,
// its source and the time in; what to send where out, plus counters. No sockets, no clock.
namespace cyphonic::trs {

// Largest UDP payload the TRS reads; anything longer is dropped as oversized.
inline constexpr std::size_t kMaxDatagram = 65535;

struct RelayOptions {
    NodeId trs_id;
    std::vector<ServiceKey> service_keys;
    std::size_t max_entries = 100000;
    std::chrono::seconds idle_timeout{120};
    std::uint32_t first_sequence = 1;  // of the TRS's answers: initial_sequence(unix time)
};

// One datagram to send. `bytes` is a view into the datagram given to on_datagram() (forwarded
// verbatim) or into the Relay's own answer buffers; valid until the next on_datagram() call
// and while the caller's datagram buffer is not reused.
struct Outgoing {
    Endpoint to;
    ByteView bytes;
};

// Not thread-safe: the I/O thread owns it.
class Relay {
public:
    // The error is a sentence (a service key's suite cannot be set up, duplicate NMS).
    [[nodiscard]] static Expected<Relay, std::string> create(RelayOptions options,
                                                             TrsMetrics& metrics);

    // Handles one datagram from `from` received at `now`; fills `out` (cleared first) with
    // what to send. Never throws on any input; bad input is counted in the metrics and
    // produces no output and no state change.
    void on_datagram(ByteView datagram, const Endpoint& from, TimePoint now,
                     std::vector<Outgoing>& out);

    // Removes idle entries and old cached answers; updates the active-paths gauge. Returns the
    // number of entries removed.
    std::size_t sweep(TimePoint now);

    // SIGTERM: new Relay Requests are answered RELAY_UNAVAILABLE; existing paths keep working.
    void stop_accepting() noexcept { handlers_.stop_accepting(); }

    [[nodiscard]] const RelayTable& table() const noexcept { return table_; }
    // The slot of `side` of `path`, for tests and logs (does not expire anything).
    [[nodiscard]] std::optional<Endpoint> slot(const PathId& path, signaling::Side side) const;

private:
    Relay(RelayTable table, NmsHandlers handlers, TrsMetrics& metrics)
        : table_(std::move(table)),
          handlers_(std::move(handlers)),
          metrics_(&metrics),
          plaintext_(kMaxDatagram) {}

    // What became of one message of a datagram before the forwarding step.
    struct Decision {
        std::optional<Endpoint> forward_to;  // verified and its peer's slot is bound
    };
    [[nodiscard]] Decision on_message(const wire::MessageView& message, const Endpoint& from,
                                      TimePoint now, std::vector<Outgoing>& out);
    [[nodiscard]] Decision on_path_message(const wire::MessageView& message, const Endpoint& from,
                                           TimePoint now);
    [[nodiscard]] Decision on_capsule(const wire::MessageView& message, const Endpoint& from,
                                      TimePoint now);
    void emit_forwards(ByteView datagram, const std::vector<wire::MessageView>& messages,
                       const std::vector<Decision>& decisions, std::vector<Outgoing>& out);
    void drop(wire::MessageType type, DropReason reason);

    RelayTable table_;
    NmsHandlers handlers_;
    TrsMetrics* metrics_;
    Bytes plaintext_;            // scratch for opening one message
    std::deque<Bytes> answers_;  // sealed answers of the current datagram (stable addresses)
    std::vector<Decision> decisions_;
};

}  // namespace cyphonic::trs
