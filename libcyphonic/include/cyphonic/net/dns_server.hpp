#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/net/asio.hpp"

namespace cyphonic::net {

// What the overlay resolver says about one name below the overlay domain.
struct OverlayAnswer {
    enum class Status : std::uint8_t {
        Ok,        // the peer exists: answer with the addresses it has (none of a family: NODATA)
        NxDomain,  // no such peer
        ServFail,  // could not tell now (NMS unreachable, route set-up failed): the client retries
    };
    Status status = Status::ServFail;
    std::optional<Ipv4Address> ipv4;
    std::optional<Ipv6Address> ipv6;
};

struct DnsServerOptions {
    std::vector<Endpoint> listen;    // UDP and TCP on each; port 0 picks one port for both
    std::vector<Endpoint> upstream;  // tried in order for every name outside `domain`
    std::string domain;              // the overlay domain ("example.net"); case and a final dot
                                     // do not matter; empty: everything is forwarded
    std::uint32_t ttl = 60;          // of overlay answers, in seconds
    std::chrono::milliseconds upstream_timeout{2000};  // per upstream and try
    // Queries waiting on the resolver or an upstream at once; beyond it they are answered
    // SERVFAIL. Also the number of open TCP connections; beyond it new ones are closed.
    std::size_t max_in_flight = 256;
};

// Every counter of the server, listed once (STYLE.md §7).
#define CYPHONIC_DNS_COUNTERS(X)                                                           \
    X(queries)           /* messages received on a listener, parsable or not */            \
    X(answered_overlay)  /* overlay names the resolver answered (addresses, NODATA, NX) */ \
    X(answered_local)    /* answered without resolver or upstream (apex, other types) */   \
    X(answered_formerr)  /* unparsable queries answered FORMERR or NOTIMP */               \
    X(forwarded)         /* queries sent to the upstreams */                               \
    X(upstream_timeouts) /* an upstream that did not answer in time (each try) */          \
    X(upstream_errors)   /* an upstream that refused or could not be reached (each try) */ \
    X(servfail)          /* SERVFAIL answers, for whatever reason */                       \
    X(overloaded)        /* queries answered SERVFAIL because max_in_flight was reached */ \
    X(internal_errors)   /* an exception from the resolver or a task: our bug, counted */

struct DnsCounters {
#define CYPHONIC_DNS_COUNTER(name) std::uint64_t name = 0;
    CYPHONIC_DNS_COUNTERS(CYPHONIC_DNS_COUNTER)
#undef CYPHONIC_DNS_COUNTER
    // Messages dropped without an answer, by reason: the dns::DnsError names of messages
    // without a readable query header ("truncated", "not_a_query"), and "upstream_mismatch"
    // (an upstream datagram that did not answer our query), "tcp_connection_limit",
    // "send_failed".
    std::map<std::string, std::uint64_t> dropped;
};

namespace detail {
struct DnsServerState;
}

// The DNS server of the node daemon's resolver (and the adapter's, for its general nodes):
// names below `domain` are answered through the Resolver callback, each query in its own
// coroutine; every other name is forwarded to the upstream resolvers over UDP (over TCP again
// when a TCP client's answer came back truncated). Nothing a client or upstream sends can stop
// it: bad input is answered FORMERR or dropped, and counted.
//
// Runs on one executor, which must not run handlers concurrently (an io_context run by one
// thread, or a strand): every member is to be called there ("I/O thread only"). Queries in
// progress hold the server's state, so destroying the server (which stops it) while they run
// is safe; they finish or die with the io_context.
class DnsServer {
public:
    // Called for every A/AAAA/ANY query of a valid FQDN below the domain: `fqdn` is lower case
    // without a trailing dot; `client` is the query's source (an adapter tells its general
    // nodes apart by it). May take as long as it needs (a route set-up); an exception counts
    // as internal_errors and answers SERVFAIL.
    using Resolver =
        std::function<asio::awaitable<OverlayAnswer>(std::string fqdn, Endpoint client)>;

    DnsServer(asio::any_io_executor executor, DnsServerOptions options, Resolver resolver);
    ~DnsServer();
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;
    DnsServer(DnsServer&&) noexcept = default;
    DnsServer& operator=(DnsServer&&) noexcept = default;

    // Binds UDP and TCP (2-byte length framing, RFC 1035 §4.2.2) on every listen endpoint and
    // starts serving. On failure nothing stays bound and the error names the address:
    // "bind udp 127.0.0.1:53: Address already in use". Call once.
    [[nodiscard]] Expected<void, std::string> start();
    // Closes every listener and TCP connection; queries in progress still send their answer
    // where the socket allows it.
    void stop();
    // The bound UDP endpoints (TCP uses the same ports), with actual ports when 0 was given.
    [[nodiscard]] std::vector<Endpoint> local_endpoints() const;
    [[nodiscard]] const DnsCounters& counters() const;

private:
    std::shared_ptr<detail::DnsServerState> state_;
};

// The `nameserver` addresses of a resolv.conf, in order, port 53. Lines that are not
// nameserver lines, and addresses that do not parse (such as link-local ones with a "%zone"),
// are skipped; an unreadable file gives an empty list. Leaving out addresses that would send
// queries back to our own listeners is the caller's job.
[[nodiscard]] std::vector<Endpoint> system_upstreams(
    const std::filesystem::path& resolv_conf = "/etc/resolv.conf");

}  // namespace cyphonic::net
