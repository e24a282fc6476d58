#include "cyphonic/net/nms_session.hpp"

#include <cstring>

#include <fmt/format.h>

#include "cyphonic/crypto/random.hpp"

namespace cyphonic::net {

using std::chrono::milliseconds;
using Udp = asio::ip::udp;

namespace {

constexpr std::array<milliseconds, 5> kSends = {
    milliseconds(0), milliseconds(500), milliseconds(1500), milliseconds(3500), milliseconds(7500)};

Udp::endpoint to_udp(const Endpoint& e) {
    const IpAddress a = e.address;
    if (a.is_v4()) {
        asio::ip::address_v4::bytes_type b{};
        std::memcpy(b.data(), a.v4().bytes.data(), b.size());
        return {asio::ip::address_v4(b), e.port};
    }
    asio::ip::address_v6::bytes_type b{};
    std::memcpy(b.data(), a.v6().bytes.data(), b.size());
    return {asio::ip::address_v6(b), e.port};
}

Endpoint from_udp(const Udp::endpoint& e) {
    const auto address = e.address();
    if (address.is_v4()) {
        Ipv4Address v4;
        const auto b = address.to_v4().to_bytes();
        std::memcpy(v4.bytes.data(), b.data(), b.size());
        return {v4, e.port()};
    }
    Ipv6Address v6;
    const auto b = address.to_v6().to_bytes();
    std::memcpy(v6.bytes.data(), b.data(), b.size());
    return {IpAddress(v6).normalized(), e.port()};
}

crypto::CipherSuite make_suite(wire::CipherSuiteId id, std::span<const std::byte, 32> key) {
    auto suite = crypto::CipherSuite::create(id, ByteView(key));
    if (!suite.has_value()) {
        throw std::runtime_error("NMS key: " + suite.error());
    }
    return std::move(*suite);
}

}  // namespace

std::string NmsFailure::describe() const {
    switch (kind) {
        case Kind::Timeout:
            return "no answer from NMS";
        case Kind::Error:
            return fmt::format("NMS error {}: {}", wire::to_string(code), reason);
        case Kind::Send:
            return "send failed: " + reason;
    }
    return "unknown";
}

struct NmsSession::Pending {
    explicit Pending(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    wire::MessageType answer = wire::MessageType::Ack;
    std::optional<wire::Body> body;
    std::optional<wire::Error> error;
    bool done = false;
};

NmsSession::NmsSession(asio::io_context& io, const Options& options)
    : io_(io),
      options_(options),
      socket_(io),
      sealer_(make_suite(options.cipher, options.nms_key), signaling::Side::Clear),
      opener_(make_suite(options.cipher, options.nms_key), signaling::Side::Clear) {
    if (options_.send) {
        return;
    }
    const auto local = to_udp(options_.local);
    socket_.open(local.protocol());
    socket_.bind(local);
}

NmsSession::~NmsSession() {
    close();
}

void NmsSession::start() {
    if (!options_.send) {
        asio::co_spawn(io_, receive_loop(), asio::detached);
    }
}

void NmsSession::close() noexcept {
    boost::system::error_code ignored;
    socket_.close(ignored);
    for (auto& [key, p] : pending_) {
        try {
            p->timer.cancel();
        } catch (const boost::system::system_error&) {
            // Nothing to cancel on a timer whose service is gone.
        }
    }
}

bool NmsSession::expects(const std::array<std::byte, 16>& id) const {
    const auto it = pending_.lower_bound({id, 0});
    return it != pending_.end() && it->first.first == id;
}

Endpoint NmsSession::local_endpoint() const {
    return from_udp(socket_.local_endpoint());
}

bool NmsSession::send(const wire::BaseHeader& header, const wire::Body& body, const Endpoint& to) {
    auto sealed = sealer_.seal(header, body);
    if (!sealed.has_value()) {
        return false;
    }
    if (options_.send) {
        return options_.send(*sealed, to);
    }
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(sealed->data(), sealed->size()), to_udp(to), 0, ec);
    return !ec;
}

asio::awaitable<void> NmsSession::receive_loop() {
    std::vector<std::byte> buffer(65535);
    Udp::endpoint from;
    for (;;) {
        boost::system::error_code ec;
        const std::size_t n = co_await socket_.async_receive_from(
            asio::buffer(buffer), from, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !socket_.is_open()) {
            co_return;
        }
        if (ec) {
            continue;
        }
        const auto messages = wire::split_datagram(std::span(buffer).first(n));
        if (!messages.has_value()) {
            ++drops_[std::string(wire::to_string(messages.error()))];
            continue;
        }
        for (const auto& m : *messages) {
            deliver(m, from_udp(from));
        }
    }
}

bool NmsSession::deliver(const wire::MessageView& message, const Endpoint& from) {
    std::vector<std::byte> plaintext(crypto::CipherSuite::max_plaintext_size(message.bytes.size()));
    auto opened = opener_.open(message, plaintext);
    if (!opened.has_value()) {
        ++drops_[std::string(opened.error().reason())];
        return false;
    }
    const wire::BaseHeader& h = opened->header;
    if (h.type == wire::MessageType::RouteDirectionToResponder && h.id == options_.node_id.raw()) {
        // §7.3 step 5: confirm by echoing the body, to where the request came from.
        const auto& body = std::get<wire::RouteDirection>(opened->body);
        wire::BaseHeader confirm;
        confirm.transaction_id = h.transaction_id;
        confirm.type = wire::MessageType::RouteDirectionConfirmation;
        confirm.flags = static_cast<std::uint8_t>(wire::flag::kSuccess | wire::flag::kResponse |
                                                  (h.flags & wire::flag::kRelayed));
        confirm.id = h.id;
        send(confirm, body, from);
        if (responder_handler_) {
            responder_handler_(h, body);
        }
        return true;
    }
    if (h.type == wire::MessageType::GeneralNodeUpdateNotify && h.id == options_.node_id.raw()) {
        // §7.9 step 4: acknowledge, then refetch the general-node list.
        wire::BaseHeader ack;
        ack.transaction_id = h.transaction_id;
        ack.type = wire::MessageType::Ack;
        ack.flags = wire::flag::kSuccess | wire::flag::kResponse;
        ack.id = h.id;
        const wire::Body empty = wire::EmptyBody{};
        send(ack, empty, from);
        if (update_handler_) {
            update_handler_();
        }
        return true;
    }
    const auto it = pending_.find({h.id, h.transaction_id});
    if (it == pending_.end()) {
        ++drops_["unmatched"];
        return false;
    }
    Pending& p = *it->second;
    if (h.type == wire::MessageType::Error) {
        p.error = std::get<wire::Error>(opened->body);
    } else if (h.type == p.answer) {
        p.body = std::move(opened->body);
    } else {
        ++drops_["unexpected_type"];
        return false;
    }
    p.done = true;
    p.timer.cancel();
    return true;
}

asio::awaitable<Expected<wire::Body, NmsFailure>> NmsSession::request(
    wire::BaseHeader header, wire::Body body, wire::MessageType answer, milliseconds give_up,
    bool retransmit, Endpoint to) {
    const auto key = std::make_pair(header.type == wire::MessageType::DirectionRequest
                                        ? std::get<wire::DirectionRequest>(body).path_id.raw()
                                        : options_.node_id.raw(),
                                    header.transaction_id);
    auto pending = std::make_shared<Pending>(io_);
    pending->answer = answer;
    pending_[key] = pending;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < kSends.size() && !pending->done; ++i) {
        if (i > 0 && !retransmit) {
            break;
        }
        if (kSends[i] >= give_up) {
            break;
        }
        if (!send(header, body, to)) {
            pending_.erase(key);
            co_return fail(NmsFailure{NmsFailure::Kind::Send, wire::ErrorCode::Internal,
                                      "cannot seal or send"});
        }
        const auto next =
            (retransmit && i + 1 < kSends.size()) ? std::min(kSends[i + 1], give_up) : give_up;
        pending->timer.expires_at(start + next);
        boost::system::error_code ec;
        co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!pending->done) {
        // Wait out the rest of the budget after the last send.
        pending->timer.expires_at(start + give_up);
        boost::system::error_code ec;
        co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    pending_.erase(key);
    if (pending->error) {
        co_return fail(NmsFailure{NmsFailure::Kind::Error, pending->error->error_code(),
                                  pending->error->reason});
    }
    if (!pending->body) {
        co_return fail(NmsFailure{});
    }
    co_return std::move(*pending->body);
}

asio::awaitable<Expected<wire::RegistrationResponse, NmsFailure>> NmsSession::register_node(
    wire::RegistrationRequest request, bool first, std::optional<Endpoint> to) {
    wire::BaseHeader h;
    h.transaction_id = crypto::random_u32();
    h.type = wire::MessageType::RegistrationRequest;
    h.flags = first ? wire::flag::kFirstRegistration : 0;
    h.set_id(options_.node_id);
    const Endpoint nms = to.value_or(options_.nms);
    auto answer = co_await this->request(h, request, wire::MessageType::RegistrationResponse,
                                         options_.give_up, true, nms);
    if (!answer.has_value()) {
        co_return fail(answer.error());
    }
    co_return std::get<wire::RegistrationResponse>(*answer);
}

asio::awaitable<Expected<void, NmsFailure>> NmsSession::keep_alive(milliseconds wait,
                                                                   std::optional<Endpoint> to) {
    wire::BaseHeader h;
    h.transaction_id = crypto::random_u32();
    h.type = wire::MessageType::KeepAlive;
    h.set_id(options_.node_id);
    const wire::Body empty = wire::EmptyBody{};
    const Endpoint nms = to.value_or(options_.nms);
    auto answer = co_await request(h, empty, wire::MessageType::Ack, wait, false, nms);
    if (!answer.has_value()) {
        co_return fail(answer.error());
    }
    co_return Expected<void, NmsFailure>{};
}

asio::awaitable<Expected<wire::RouteDirection, NmsFailure>> NmsSession::direction_request(
    wire::DirectionRequest request) {
    wire::BaseHeader h;
    h.transaction_id = crypto::random_u32();
    h.type = wire::MessageType::DirectionRequest;
    h.set_id(options_.node_id);
    auto answer =
        co_await this->request(h, std::move(request), wire::MessageType::RouteDirectionToInitiator,
                               options_.give_up, true, options_.nms);
    if (!answer.has_value()) {
        co_return fail(answer.error());
    }
    co_return std::get<wire::RouteDirection>(*answer);
}

}  // namespace cyphonic::net
