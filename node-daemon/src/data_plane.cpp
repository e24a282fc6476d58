#include "data_plane.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "inner_packet.hpp"

#include "cyphonic/crypto/cipher_suite.hpp"

namespace cyphonic::noded {

namespace {

constexpr std::size_t kBatch = 32;
constexpr std::size_t kMaxQueued = 64;  // packets held per path while its tunnel comes up
constexpr std::size_t kDatagramMax = 65535;
constexpr std::size_t kCapsuleType = 6;  // offset of Type in the Base Header

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
        .count();
}

}  // namespace

// sockaddr for `to` on a socket of the given family (IPv4 as a mapped address on IPv6).
socklen_t to_sockaddr(const Endpoint& to, bool v6_socket, sockaddr_storage& out) {
    std::memset(&out, 0, sizeof out);
    const IpAddress a = to.address;
    if (!v6_socket) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&out);  // NOLINT
        sin->sin_family = AF_INET;
        sin->sin_port = htons(to.port);
        if (a.is_v4()) {
            std::memcpy(&sin->sin_addr, a.v4().bytes.data(), 4);
        }
        return sizeof(sockaddr_in);
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);  // NOLINT
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(to.port);
    if (a.is_v4()) {
        sin6->sin6_addr.s6_addr[10] = 0xff;
        sin6->sin6_addr.s6_addr[11] = 0xff;
        std::memcpy(&sin6->sin6_addr.s6_addr[12], a.v4().bytes.data(), 4);
    } else {
        std::memcpy(&sin6->sin6_addr, a.v6().bytes.data(), 16);
    }
    return sizeof(sockaddr_in6);
}

Endpoint from_sockaddr(const sockaddr_storage& from) {
    if (from.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&from);  // NOLINT
        Ipv4Address v4;
        std::memcpy(v4.bytes.data(), &sin->sin_addr, 4);
        return {v4, ntohs(sin->sin_port)};
    }
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&from);  // NOLINT
    Ipv6Address v6;
    std::memcpy(v6.bytes.data(), &sin6->sin6_addr, 16);
    return {IpAddress(v6).normalized(), ntohs(sin6->sin6_port)};
}

bool wait_readable(int fd, int stop_fd) {
    std::array<pollfd, 2> fds{{{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}}};
    for (;;) {
        const int n = ::poll(fds.data(), fds.size(), -1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return n > 0 && (fds[1].revents & POLLIN) == 0;
    }
}

bool is_v6_socket(int fd) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    return ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||  // NOLINT
           local.ss_family == AF_INET6;
}

std::size_t IpAddressHash::operator()(const IpAddress& a) const noexcept {
    std::size_t h = 0;
    if (a.is_v4()) {
        std::uint32_t v = 0;
        std::memcpy(&v, a.v4().bytes.data(), 4);
        h = v;
    } else {
        std::memcpy(&h, a.v6().bytes.data() + 8, sizeof h);
    }
    return h;
}

// ---------------------------------------------------------------------------------- DataPath

DataPath::DataPath(PathId id, std::optional<Ipv4Address> peer_v4,
                   std::optional<Ipv6Address> peer_v6)
    : id_(id), peer_v4_(peer_v4), peer_v6_(peer_v6) {}

void DataPath::install_sender(signaling::Sealer sealer, std::uint32_t transaction_id) {
    const std::lock_guard lock(tx_mu_);
    sealer_.emplace(std::move(sealer));
    transaction_id_ = transaction_id;
}

void DataPath::set_destination(const Destination& destination) {
    const std::lock_guard lock(tx_mu_);
    destination_ = destination;
}

Destination DataPath::destination() const {
    const std::lock_guard lock(tx_mu_);
    return destination_;
}

bool DataPath::sender_ready() const {
    const std::lock_guard lock(tx_mu_);
    return sealer_.has_value();
}

void DataPath::install_receiver(signaling::Opener opener, std::chrono::milliseconds overlap) {
    const std::lock_guard lock(rx_mu_);
    if (opener_) {
        previous_.emplace(std::move(*opener_));
        previous_until_ = Clock::now() + overlap;
    }
    opener_.emplace(std::move(opener));
}

std::deque<Bytes> DataPath::take_queued() {
    const std::lock_guard lock(tx_mu_);
    return std::exchange(queued_, {});
}

DataPath::SealResult DataPath::seal(ByteView packet, MutableByteView out, std::size_t& size,
                                    Endpoint& to) {
    const std::lock_guard lock(tx_mu_);
    if (!sealer_) {
        if (queued_.size() >= kMaxQueued) {
            return SealResult::QueueFull;
        }
        queued_.emplace_back(packet.begin(), packet.end());
        return SealResult::Queued;
    }
    wire::BaseHeader h;
    h.transaction_id = transaction_id_;
    h.type = wire::MessageType::Capsule;
    h.flags = destination_.relayed ? wire::flag::kRelayed : 0;
    h.set_id(id_);
    const wire::Body body = wire::Capsule{packet};
    auto sealed = sealer_->seal(h, body, out);
    if (!sealed.has_value()) {
        return SealResult::Failed;
    }
    size = *sealed;
    to = destination_.to;
    return SealResult::Sealed;
}

Expected<ByteView, std::string_view> DataPath::open(const wire::MessageView& message,
                                                    MutableByteView plaintext, const Endpoint& from,
                                                    bool& switched) {
    switched = false;
    Expected<signaling::OpenedMessage, signaling::ReceiveError> opened =
        fail(signaling::ReceiveError{});
    {
        const std::lock_guard lock(rx_mu_);
        if (!opener_) {
            return fail(std::string_view("tunnel_not_up"));
        }
        opened = opener_->open(message, plaintext);
        if (!opened.has_value() && previous_ && Clock::now() < previous_until_ &&
            opened.error().stage == signaling::ReceiveError::Stage::Open) {
            opened = previous_->open(message, plaintext);
        }
    }
    if (!opened.has_value()) {
        return fail(opened.error().reason());
    }
    const auto* capsule = std::get_if<wire::Capsule>(&opened->body);
    if (capsule == nullptr) {
        return fail(std::string_view("not_a_capsule"));
    }
    {
        const std::lock_guard lock(tx_mu_);
        if (destination_.relayed && destination_.switch_on_direct_receive && destination_.relay &&
            from != *destination_.relay) {
            destination_.to = from;
            destination_.relayed = false;
            destination_.relay.reset();
            destination_.switch_on_direct_receive = false;
            switched = true;
        }
    }
    return capsule->payload;
}

// --------------------------------------------------------------------------------- DataPlane

DataPlane::DataPlane(Options options, ControlSink control, MissSink miss, SwitchSink on_switch)
    : options_(options),
      control_(std::move(control)),
      miss_(std::move(miss)),
      on_switch_(std::move(on_switch)),
      stop_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      v6_socket_(is_v6_socket(options_.udp_fd)) {}

DataPlane::~DataPlane() {
    stop();
    if (stop_fd_ >= 0) {
        ::close(stop_fd_);
    }
}

void DataPlane::start() {
    sender_ = std::thread([this] { send_loop(); });
    receiver_ = std::thread([this] { receive_loop(); });
}

void DataPlane::stop() noexcept {
    const std::uint64_t one = 1;
    if (stop_fd_ >= 0) {
        [[maybe_unused]] const auto n = ::write(stop_fd_, &one, sizeof one);
    }
    if (sender_.joinable()) {
        sender_.join();
    }
    if (receiver_.joinable()) {
        receiver_.join();
    }
}

void DataPlane::set_local(std::optional<Ipv4Address> v4, std::optional<Ipv6Address> v6) {
    const std::unique_lock lock(table_mu_);
    local_v4_ = v4;
    local_v6_ = v6;
}

void DataPlane::add(const std::shared_ptr<DataPath>& path) {
    const std::unique_lock lock(table_mu_);
    paths_[path->id()] = path;
    if (path->peer_v4()) {
        routes_[IpAddress(*path->peer_v4())] = path;
    }
    if (path->peer_v6()) {
        routes_[IpAddress(*path->peer_v6())] = path;
    }
}

void DataPlane::remove(const PathId& id) {
    const std::unique_lock lock(table_mu_);
    const auto it = paths_.find(id);
    if (it == paths_.end()) {
        return;
    }
    for (auto r = routes_.begin(); r != routes_.end();) {
        r = r->second == it->second ? routes_.erase(r) : std::next(r);
    }
    paths_.erase(it);
}

std::shared_ptr<DataPath> DataPlane::find(const PathId& id) const {
    const std::shared_lock lock(table_mu_);
    const auto it = paths_.find(id);
    return it == paths_.end() ? nullptr : it->second;
}

std::shared_ptr<DataPath> DataPlane::route(const IpAddress& destination) const {
    const std::shared_lock lock(table_mu_);
    const auto it = routes_.find(destination);
    return it == routes_.end() ? nullptr : it->second;
}

bool DataPlane::send(ByteView datagram, const Endpoint& to) noexcept {
    sockaddr_storage sa{};
    const socklen_t len = to_sockaddr(to, v6_socket_, sa);
    if (!v6_socket_ && !to.address.is_v4()) {
        return false;
    }
    const auto n = ::sendto(options_.udp_fd, datagram.data(), datagram.size(), 0,
                            reinterpret_cast<const sockaddr*>(&sa), len);  // NOLINT
    return n == static_cast<ssize_t>(datagram.size());
}

void DataPlane::flush(DataPath& path) {
    std::vector<std::byte> out(kDatagramMax);
    for (const auto& packet : path.take_queued()) {
        std::size_t size = 0;
        Endpoint to;
        if (path.seal(packet, out, size, to) == DataPath::SealResult::Sealed &&
            send(ByteView(out).first(size), to)) {
            path.counters().tx_packets.fetch_add(1, std::memory_order_relaxed);
            path.counters().tx_bytes.fetch_add(packet.size(), std::memory_order_relaxed);
        }
    }
}

std::map<std::string, std::uint64_t> DataPlane::drops() const {
    const std::lock_guard lock(drops_mu_);
    return {drops_.begin(), drops_.end()};
}

void DataPlane::count_drop(std::string_view reason) {
    const std::lock_guard lock(drops_mu_);
    const auto it = drops_.find(reason);
    if (it == drops_.end()) {
        drops_.emplace(std::string(reason), 1);
    } else {
        ++it->second;
    }
}

void DataPlane::send_loop() {
    // TUN → Capsule → UDP. Packets are read in bursts and sent with one sendmmsg per burst.
    std::vector<std::byte> in(kDatagramMax);
    std::vector<std::vector<std::byte>> out(kBatch, std::vector<std::byte>(kDatagramMax));
    std::array<sockaddr_storage, kBatch> addrs{};
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    while (wait_readable(options_.tun_fd, stop_fd_)) {
        std::size_t count = 0;
        while (count < kBatch) {
            const auto n = ::read(options_.tun_fd, in.data(), in.size());
            if (n <= 0) {
                break;
            }
            const ByteView packet(in.data(), static_cast<std::size_t>(n));
            const auto destination = inner_destination(packet);
            if (!destination) {
                count_drop("tun_not_ip");
                continue;
            }
            const auto path = route(*destination);
            if (!path) {
                count_drop("no_path");
                miss_(*destination);
                continue;
            }
            std::size_t size = 0;
            Endpoint to;
            switch (path->seal(packet, out[count], size, to)) {
                case DataPath::SealResult::Sealed:
                    break;
                case DataPath::SealResult::Queued:
                    continue;
                case DataPath::SealResult::QueueFull:
                    count_drop("tunnel_not_up");
                    path->counters().drops.fetch_add(1, std::memory_order_relaxed);
                    continue;
                case DataPath::SealResult::Failed:
                    count_drop("seal_failed");
                    path->counters().drops.fetch_add(1, std::memory_order_relaxed);
                    continue;
            }
            auto& c = path->counters();
            c.tx_packets.fetch_add(1, std::memory_order_relaxed);
            c.tx_bytes.fetch_add(packet.size(), std::memory_order_relaxed);
            c.last_traffic_ms.store(now_ms(), std::memory_order_relaxed);
            if (!v6_socket_ && !to.address.is_v4()) {
                count_drop("no_ipv6_socket");
                continue;
            }
            iov[count] = {out[count].data(), size};
            msgs[count] = {};
            msgs[count].msg_hdr.msg_iov = &iov[count];
            msgs[count].msg_hdr.msg_iovlen = 1;
            msgs[count].msg_hdr.msg_name = &addrs[count];
            msgs[count].msg_hdr.msg_namelen = to_sockaddr(to, v6_socket_, addrs[count]);
            ++count;
        }
        std::size_t sent = 0;
        while (sent < count) {
            const int n =
                ::sendmmsg(options_.udp_fd, &msgs[sent], static_cast<unsigned>(count - sent), 0);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) {
                    std::array<pollfd, 1> p{{{options_.udp_fd, POLLOUT, 0}}};
                    ::poll(p.data(), 1, 100);
                    continue;
                }
                count_drop("send_failed");
                ++sent;  // skip the datagram the kernel refused (e.g. no route)
                continue;
            }
            sent += static_cast<std::size_t>(n);
        }
    }
}

void DataPlane::receive_loop() {
    std::vector<std::vector<std::byte>> in(kBatch, std::vector<std::byte>(kDatagramMax));
    std::vector<std::byte> plaintext(kDatagramMax);
    std::array<sockaddr_storage, kBatch> addrs{};
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    while (wait_readable(options_.udp_fd, stop_fd_)) {
        for (;;) {
            for (std::size_t i = 0; i < kBatch; ++i) {
                iov[i] = {in[i].data(), in[i].size()};
                msgs[i] = {};
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
                msgs[i].msg_hdr.msg_name = &addrs[i];
                msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            }
            const int n = ::recvmmsg(options_.udp_fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
            if (n <= 0) {
                break;
            }
            for (int i = 0; i < n; ++i) {
                const ByteView datagram(in[i].data(), msgs[i].msg_len);
                const Endpoint from = from_sockaddr(addrs[i]);
                const auto messages = wire::split_datagram(datagram);
                if (!messages.has_value()) {
                    count_drop(std::string("bad_datagram_") +
                               std::string(wire::to_string(messages.error())));
                    continue;
                }
                bool control = false;
                for (const auto& m : *messages) {
                    if (m.header.type == wire::MessageType::Capsule) {
                        handle_capsule(m, from, plaintext);
                    } else {
                        control = true;
                    }
                }
                if (control) {
                    control_(Bytes(datagram.begin(), datagram.end()), from);
                }
            }
            if (static_cast<std::size_t>(n) < kBatch) {
                break;
            }
        }
    }
}

void DataPlane::handle_capsule(const wire::MessageView& message, const Endpoint& from,
                               MutableByteView plaintext) {
    const auto path = find(PathId(message.header.id));
    if (!path) {
        count_drop("unknown_path");
        return;
    }
    auto& c = path->counters();
    bool switched = false;
    const auto payload = path->open(message, plaintext, from, switched);
    if (!payload.has_value()) {
        count_drop(payload.error());
        c.drops.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (switched) {
        on_switch_(path->id(), from);
    }
    // C18: an IP packet from the peer's virtual address to ours, with an honest length.
    const auto inner = inner_addresses(*payload);
    bool ok = inner.has_value();
    if (ok) {
        const std::shared_lock lock(table_mu_);
        if (inner->source.is_v4()) {
            ok = path->peer_v4() && inner->source.v4() == *path->peer_v4() && local_v4_ &&
                 inner->destination.v4() == *local_v4_;
        } else {
            ok = path->peer_v6() && inner->source.v6() == *path->peer_v6() && local_v6_ &&
                 inner->destination.v6() == *local_v6_;
        }
    }
    if (!ok) {
        count_drop("inner_address");
        c.drops.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (::write(options_.tun_fd, payload->data(), payload->size()) < 0) {
        count_drop("tun_write_failed");
        c.drops.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    c.rx_packets.fetch_add(1, std::memory_order_relaxed);
    c.rx_bytes.fetch_add(payload->size(), std::memory_order_relaxed);
    c.last_traffic_ms.store(now_ms(), std::memory_order_relaxed);
}

Expected<int, std::string> open_udp_socket(std::uint16_t port, int buffer_bytes) {
    int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    bool v6 = fd >= 0;
    if (v6) {
        const int off = 0;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        sockaddr_in6 sa{};
        sa.sin6_family = AF_INET6;
        sa.sin6_port = htons(port);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {  // NOLINT
            const int e = errno;
            ::close(fd);
            if (e == EADDRINUSE) {
                return fail(fmt::format("UDP port {} is in use", port));
            }
            fd = -1;
            v6 = false;
        }
    }
    if (!v6) {
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return fail(fmt::format("UDP socket: {}", std::strerror(errno)));
        }
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {  // NOLINT
            const std::string reason = std::strerror(errno);
            ::close(fd);
            return fail(fmt::format("bind UDP port {}: {}", port, reason));
        }
    }
    if (buffer_bytes > 0) {
        // SO_*BUFFORCE passes the system limit (CAP_NET_ADMIN); fall back to the plain option.
        if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0) {
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
        }
        if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0) {
            ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
        }
    }
    return fd;
}

}  // namespace cyphonic::noded
