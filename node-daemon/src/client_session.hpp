#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "client_config.hpp"

#include "cyphonic/net/as_client.hpp"
#include "cyphonic/net/asio.hpp"
#include "cyphonic/net/nms_session.hpp"
#include "cyphonic/wire/messages.hpp"

// The signaling steps both daemons take for an identity (PROTOCOL.md §7.1, §7.2, C12): the
// Login Request from the configuration, the NMS addresses of a Login Response, the local
// addresses that reach them, registration and keep alive over each address family.
namespace cyphonic::noded {

[[nodiscard]] net::AsClientOptions as_client_options(const ClientConfig& c);
[[nodiscard]] wire::LoginRequest login_request(const ClientConfig& c, const ClientSettings& s,
                                               wire::ExecMode mode);
// A rejection that logging in again cannot fix (bad credentials, unsupported auth type).
[[nodiscard]] bool login_failure_is_final(const net::LoginFailure& f);
// The overlay domain: the configured one, else the FQDN without its first label.
[[nodiscard]] std::string overlay_domain(const std::string& configured, const std::string& fqdn);
// End of the expiry day of a key (D7), UTC.
[[nodiscard]] std::chrono::system_clock::time_point end_of(const wire::Date& d);

struct NmsAddresses {
    std::optional<Endpoint> v4;
    std::optional<Endpoint> v6;
    [[nodiscard]] bool contains(const Endpoint& e) const { return e == v4 || e == v6; }
    [[nodiscard]] Endpoint first() const { return v4 ? *v4 : (v6 ? *v6 : Endpoint{}); }
};
[[nodiscard]] NmsAddresses nms_addresses(const wire::LoginResponse& r, std::uint16_t port);

struct RealAddresses {
    std::optional<Ipv4Address> v4;
    std::optional<Ipv6Address> v6;
    friend bool operator==(const RealAddresses&, const RealAddresses&) = default;
};
// The local addresses the routing table picks towards NMS, per family.
[[nodiscard]] RealAddresses real_addresses_towards(const NmsAddresses& nms);

struct Registered {
    bool any = false;  // accepted over at least one family
    bool nat = false;
    bool v4 = false;
    bool v6 = false;
    bool key_expired = false;
    std::string error;  // the last failure, for logs and status
};
// Coroutines: the addresses are taken by value (a reference to a temporary would dangle after
// the first suspension).
// Registration Request with `real` and `port` over each family that has both an NMS address
// and a real one; FIRST_REGISTRATION on the first message only (C11).
asio::awaitable<Registered> register_families(net::NmsSession& nms, NmsAddresses to,
                                              RealAddresses real, std::uint16_t port, bool first);

struct KeptAlive {
    bool answered = false;
    bool key_expired = false;
    bool rejected = false;  // NMS answered with an Error (e.g. it lost the registration, N7)
    std::string error;
};
// Pacing of login and registration attempts after a failure (C12): 1, 2, 4, 8, then every
// 15 s, each wait drawn between half and all of its step so that a fleet cut off together
// does not come back in step. The cap keeps an end within 15 s of its network coming back.
class RetryBackoff {
public:
    static constexpr std::chrono::seconds kFirst{1};
    static constexpr std::chrono::seconds kMax{15};
    // The wait before the next attempt; each call doubles the step up to kMax.
    [[nodiscard]] std::chrono::milliseconds next();
    void reset() noexcept { step_ = kFirst; }

private:
    std::chrono::seconds step_ = kFirst;
};

// One Keep Alive over each registered family.
asio::awaitable<KeptAlive> keep_alive_families(net::NmsSession& nms, NmsAddresses to, bool v4,
                                               bool v6);

}  // namespace cyphonic::noded
