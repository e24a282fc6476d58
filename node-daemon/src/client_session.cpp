#include "client_session.hpp"

#include <spdlog/spdlog.h>

#include "cyphonic/crypto/random.hpp"
#include "cyphonic/sys/route_source.hpp"

namespace cyphonic::noded {

namespace {

constexpr std::chrono::milliseconds kKeepAliveWait{5000};

}  // namespace

net::AsClientOptions as_client_options(const ClientConfig& c) {
    net::AsClientOptions o;
    o.host = c.as_host;
    o.port = c.as_port;
    o.server_name = c.as_server_name;
    o.ca_file = c.as_ca_file;
    o.client_cert = c.client_cert;
    o.client_key = c.client_key;
    return o;
}

wire::LoginRequest login_request(const ClientConfig& c, const ClientSettings& s,
                                 wire::ExecMode mode) {
    wire::LoginRequest request;
    request.application_id = s.application_id;
    request.exec_mode = mode;
    request.device_id = c.device_id;
    if (s.password) {
        request.auth_type = wire::AuthType::Basic;
        request.password = *s.password;
    } else {
        request.auth_type = wire::AuthType::Certificate;
    }
    return request;
}

bool login_failure_is_final(const net::LoginFailure& f) {
    return f.kind == net::LoginFailure::Kind::Rejected &&
           (f.code == wire::ErrorCode::AuthFailed || f.code == wire::ErrorCode::Unsupported);
}

std::string overlay_domain(const std::string& configured, const std::string& fqdn) {
    if (!configured.empty()) {
        return configured;
    }
    const auto dot = fqdn.find('.');
    return dot == std::string::npos ? fqdn : fqdn.substr(dot + 1);
}

std::chrono::system_clock::time_point end_of(const wire::Date& d) {
    using namespace std::chrono;
    return sys_days{year_month_day{year{d.year}, month{d.month}, day{d.day}}} + hours(23) +
           minutes(59) + std::chrono::seconds(59);
}

NmsAddresses nms_addresses(const wire::LoginResponse& r, std::uint16_t port) {
    NmsAddresses out;
    if (!r.nms_ipv4.is_unspecified()) {
        out.v4 = Endpoint{r.nms_ipv4, port};
    }
    if (!r.nms_ipv6.is_unspecified()) {
        out.v6 = Endpoint{r.nms_ipv6, port};
    }
    return out;
}

RealAddresses real_addresses_towards(const NmsAddresses& nms) {
    RealAddresses out;
    if (nms.v4) {
        if (const auto a = sys::source_address_for(nms.v4->address); a && a->is_v4()) {
            out.v4 = a->v4();
        }
    }
    if (nms.v6) {
        if (const auto a = sys::source_address_for(nms.v6->address); a && a->is_v6()) {
            out.v6 = a->v6();
        }
    }
    return out;
}

asio::awaitable<Registered> register_families(net::NmsSession& nms, NmsAddresses to,
                                              RealAddresses real, std::uint16_t port, bool first) {
    wire::RegistrationRequest request;
    request.application_port = port;
    request.notification = wire::NotificationType::Udp;
    if (real.v4) {
        request.node_ipv4 = *real.v4;
    }
    if (real.v6) {
        request.node_ipv6 = *real.v6;
    }
    Registered out;
    for (const bool v6 : {false, true}) {
        const auto& nms_at = v6 ? to.v6 : to.v4;
        const bool have = v6 ? real.v6.has_value() : real.v4.has_value();
        if (!nms_at || !have) {
            continue;
        }
        auto call = nms.register_node(request, first, *nms_at);
        auto result = co_await std::move(call);
        if (!result) {
            spdlog::warn("registration of {} over {} to {} failed: {}", nms.node_id().to_hex(),
                         v6 ? "IPv6" : "IPv4", nms_at->to_string(), result.error().describe());
            out.error = "registration: " + result.error().describe();
            out.key_expired = out.key_expired || result.error().code == wire::ErrorCode::KeyExpired;
            continue;
        }
        out.any = true;
        out.nat = out.nat || result->behind_nat;
        (v6 ? out.v6 : out.v4) = true;
        first = false;  // FIRST_REGISTRATION on the first message after login only (C11)
    }
    if (!out.any && !real.v4 && !real.v6) {
        out.error = "no route to NMS";
    }
    co_return out;
}

asio::awaitable<KeptAlive> keep_alive_families(net::NmsSession& nms, NmsAddresses to, bool v4,
                                               bool v6) {
    KeptAlive out;
    for (const bool over_v6 : {false, true}) {
        const auto& nms_at = over_v6 ? to.v6 : to.v4;
        if (!nms_at || !(over_v6 ? v6 : v4)) {
            continue;
        }
        auto call = nms.keep_alive(kKeepAliveWait, *nms_at);
        auto result = co_await std::move(call);
        if (result) {
            out.answered = true;
        } else if (result.error().kind == net::NmsFailure::Kind::Error) {
            out.rejected = true;
            out.error = "keepalive: " + result.error().describe();
            out.key_expired = out.key_expired || result.error().code == wire::ErrorCode::KeyExpired;
        }
    }
    co_return out;
}

std::chrono::milliseconds RetryBackoff::next() {
    const auto step = std::chrono::duration_cast<std::chrono::milliseconds>(step_);
    const auto half = step / 2;
    const auto jitter = std::chrono::milliseconds(crypto::random_u32() %
                                                  static_cast<std::uint32_t>(half.count() + 1));
    step_ = std::min(step_ * 2, kMax);
    return half + jitter;
}

}  // namespace cyphonic::noded
