#include "adapter_plane.hpp"

#include <linux/if_packet.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "inner_packet.hpp"

#include "cyphonic/wire/messages.hpp"

namespace cyphonic::adapterd {

namespace {

constexpr std::size_t kBatch = 32;
constexpr std::size_t kDatagramMax = 65535;
constexpr std::size_t kFrameBuffer = 2048;  // larger than any accepted frame
constexpr std::size_t kMaxLanFrame = 1514;  // Ethernet II without FCS (the socket never has it)

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               noded::Clock::now().time_since_epoch())
        .count();
}

std::uint64_t mix(std::uint64_t h) {
    h ^= h >> 33U;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33U;
    return h;
}

bool is_multicast(const IpAddress& a) {
    if (a.is_v4()) {
        const auto first = std::to_integer<unsigned>(a.v4().bytes[0]);
        return first >= 224 ||
               a.v4().bytes == std::array<std::byte, 4>{std::byte{255}, std::byte{255},
                                                        std::byte{255}, std::byte{255}};
    }
    return a.v6().bytes[0] == std::byte{0xff} ||
           (a.v6().bytes[0] == std::byte{0xfe} &&
            (a.v6().bytes[1] & std::byte{0xc0}) == std::byte{0x80});  // multicast, link-local
}

std::uint32_t sum16(ByteView data, std::uint32_t sum) {
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2) {
        sum += (std::to_integer<std::uint32_t>(data[i]) << 8U) |
               std::to_integer<std::uint32_t>(data[i + 1]);
    }
    if (i < data.size()) {
        sum += std::to_integer<std::uint32_t>(data[i]) << 8U;
    }
    return sum;
}

}  // namespace

// A frame from a virtual NIC on the link (veth, a VM's tap) may carry a TCP or UDP segment
// whose checksum the sender left to transmit offload (TP_STATUS_CSUMNOTREADY): the field holds
// only the pseudo-header sum. It leaves the link inside a Capsule, so it is completed here.
void complete_l4_checksum(MutableByteView packet) noexcept {
    if (packet.size() < 20) {
        return;
    }
    const auto version = std::to_integer<unsigned>(packet[0]) >> 4U;
    std::size_t l4 = 0;
    unsigned proto = 0;
    std::uint32_t sum = 0;
    if (version == 4) {
        l4 = (std::to_integer<std::size_t>(packet[0]) & 0x0fU) * 4;
        proto = std::to_integer<unsigned>(packet[9]);
        sum = sum16(packet.subspan(12, 8), 0);  // source and destination
    } else if (version == 6 && packet.size() >= 40) {
        l4 = 40;
        proto = std::to_integer<unsigned>(packet[6]);
        sum = sum16(packet.subspan(8, 32), 0);
    } else {
        return;
    }
    const std::size_t field = proto == 6 ? 16 : proto == 17 ? 6 : 0;
    if (field == 0 || l4 + field + 2 > packet.size()) {
        return;
    }
    const auto segment = packet.subspan(l4);
    sum += proto + static_cast<std::uint32_t>(segment.size());
    segment[field] = std::byte{0};
    segment[field + 1] = std::byte{0};
    sum = sum16(segment, sum);
    while ((sum >> 16U) != 0) {
        sum = (sum & 0xffffU) + (sum >> 16U);
    }
    auto result = static_cast<std::uint16_t>(~sum);
    if (result == 0 && proto == 17) {
        result = 0xffff;  // UDP: zero means "no checksum"
    }
    segment[field] = std::byte{static_cast<unsigned char>(result >> 8U)};
    segment[field + 1] = std::byte{static_cast<unsigned char>(result & 0xffU)};
}

// The PathTable of one general node.
class AdapterPlane::View final : public noded::PathTable {
public:
    View(AdapterPlane& plane, GnIndex gn) : plane_(plane), gn_(gn) {}
    void add(const std::shared_ptr<noded::DataPath>& path) override { plane_.add(gn_, path); }
    void remove(const PathId& id) override { plane_.remove(gn_, id); }
    [[nodiscard]] std::shared_ptr<noded::DataPath> find(const PathId& id) const override {
        return plane_.find(gn_, id);
    }
    bool send(ByteView datagram, const Endpoint& to) noexcept override {
        return plane_.send(datagram, to);
    }
    void flush(noded::DataPath& path) override { plane_.flush(gn_, path); }

private:
    AdapterPlane& plane_;
    GnIndex gn_;
};

std::size_t AdapterPlane::RouteKeyHash::operator()(const RouteKey& k) const noexcept {
    return static_cast<std::size_t>(
        mix(noded::IpAddressHash{}(k.destination) ^ (static_cast<std::uint64_t>(k.gn) << 32U)));
}

AdapterPlane::AdapterPlane(Options options, ControlSink control, LanSink lan, MissSink miss,
                           SwitchSink on_switch)
    : options_(options),
      control_(std::move(control)),
      lan_(std::move(lan)),
      miss_(std::move(miss)),
      on_switch_(std::move(on_switch)),
      stop_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      v6_socket_(noded::is_v6_socket(options_.udp_fd)) {
    OrderedPipeline<PacketJob>::Options po;
    po.workers = options_.workers;
    po.staging = options_.staging;
    po.max_wait = options_.staging_wait;
    pipeline_ = std::make_unique<OrderedPipeline<PacketJob>>(
        po, [this](PacketJob& job) { return handle(job); },
        [this](std::span<PacketJob*> jobs) { release(jobs); });
}

AdapterPlane::~AdapterPlane() {
    stop();
    if (stop_fd_ >= 0) {
        ::close(stop_fd_);
    }
}

void AdapterPlane::start() {
    pipeline_->start();
    lan_thread_ = std::thread([this] {
        ::pthread_setname_np(::pthread_self(), "cy-lan");
        lan_loop();
    });
    wan_thread_ = std::thread([this] {
        ::pthread_setname_np(::pthread_self(), "cy-wan");
        wan_loop();
    });
}

void AdapterPlane::stop() noexcept {
    const std::uint64_t one = 1;
    if (stop_fd_ >= 0) {
        static_cast<void>(::write(stop_fd_, &one, sizeof one));
    }
    if (lan_thread_.joinable()) {
        lan_thread_.join();
    }
    if (wan_thread_.joinable()) {
        wan_thread_.join();
    }
    if (pipeline_) {
        pipeline_->stop();
    }
}

// ---------------------------------------------------------------------------- control thread

void AdapterPlane::set_gateway(std::optional<Ipv4Address> v4, std::optional<Ipv6Address> v6) {
    const std::unique_lock lock(table_mu_);
    gateway_v4_ = v4;
    gateway_v6_ = v6;
}

void AdapterPlane::set_general_node(GnIndex gn, const lan::MacAddress& mac,
                                    std::optional<Ipv4Address> v4, std::optional<Ipv6Address> v6,
                                    bool active) {
    const std::unique_lock lock(table_mu_);
    if (const auto it = nodes_.find(gn); it != nodes_.end() && it->second.mac != mac) {
        by_mac_.erase(it->second.mac);
    }
    nodes_[gn] = Node{mac, v4, v6, active};
    by_mac_[mac] = gn;
}

void AdapterPlane::remove_general_node(GnIndex gn) {
    const std::unique_lock lock(table_mu_);
    if (const auto it = nodes_.find(gn); it != nodes_.end()) {
        by_mac_.erase(it->second.mac);
        nodes_.erase(it);
    }
    std::erase_if(paths_, [gn](const auto& p) { return p.second.gn == gn; });
    std::erase_if(routes_, [gn](const auto& r) { return r.first.gn == gn; });
}

noded::PathTable& AdapterPlane::table(GnIndex gn) {
    auto& view = views_[gn];
    if (!view) {
        view = std::make_unique<View>(*this, gn);
    }
    return *view;
}

void AdapterPlane::add(GnIndex gn, const std::shared_ptr<noded::DataPath>& path) {
    const std::unique_lock lock(table_mu_);
    paths_[path->id()] = Owned{gn, path};
    if (path->peer_v4()) {
        routes_[RouteKey{gn, *path->peer_v4()}] = path;
    }
    if (path->peer_v6()) {
        routes_[RouteKey{gn, *path->peer_v6()}] = path;
    }
}

void AdapterPlane::remove(GnIndex gn, const PathId& id) {
    const std::unique_lock lock(table_mu_);
    const auto it = paths_.find(id);
    if (it == paths_.end() || it->second.gn != gn) {
        return;
    }
    const auto path = it->second.path;
    paths_.erase(it);
    std::erase_if(routes_, [&](const auto& r) { return r.second == path; });
}

std::shared_ptr<noded::DataPath> AdapterPlane::find(GnIndex gn, const PathId& id) const {
    const std::shared_lock lock(table_mu_);
    const auto it = paths_.find(id);
    return it != paths_.end() && it->second.gn == gn ? it->second.path : nullptr;
}

void AdapterPlane::flush(GnIndex gn, noded::DataPath& path) {
    // Packets held while the tunnel came up go through the pipeline like any other, behind
    // nothing: the flow had no path until now.
    for (auto& packet : path.take_queued()) {
        const auto dst = noded::inner_destination(packet);
        if (!dst) {
            continue;
        }
        PacketJob job;
        job.dir = PacketJob::Dir::Out;
        job.gn = gn;
        job.path = find(gn, path.id());
        if (!job.path) {
            return;
        }
        job.data = std::move(packet);
        if (!pipeline_->submit(mix(noded::IpAddressHash{}(*dst) ^ gn), std::move(job))) {
            count_drop("pipeline_full");
        }
    }
}

// ------------------------------------------------------------------------------- any thread

bool AdapterPlane::send(ByteView datagram, const Endpoint& to) noexcept {
    sockaddr_storage sa{};
    const socklen_t len = noded::to_sockaddr(to, v6_socket_, sa);
    const auto n = ::sendto(options_.udp_fd, datagram.data(), datagram.size(), 0,
                            reinterpret_cast<const sockaddr*>(&sa), len);  // NOLINT
    return n == static_cast<ssize_t>(datagram.size());
}

bool AdapterPlane::send_frame(ByteView frame) noexcept {
    for (int attempt = 0; attempt < 3; ++attempt) {
        const auto n = ::send(options_.lan_fd, frame.data(), frame.size(), 0);
        if (n == static_cast<ssize_t>(frame.size())) {
            frames_out_.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
        if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
            std::array<pollfd, 1> p{{{options_.lan_fd, POLLOUT, 0}}};
            ::poll(p.data(), 1, 10);
            continue;
        }
        break;
    }
    count_drop("lan_send_failed");
    return false;
}

std::map<std::string, std::uint64_t> AdapterPlane::drops() const {
    const std::lock_guard lock(drops_mu_);
    return {drops_.begin(), drops_.end()};
}

std::map<std::string, std::uint64_t> AdapterPlane::counters() const {
    const auto s = pipeline_->stats();
    return {{"lan_frames", lan_frames_.load()},
            {"lan_control_frames", lan_control_.load()},
            {"lan_frames_sent", frames_out_.load()},
            {"datagrams_sent", datagrams_out_.load()},
            {"pipeline_submitted", s.submitted},
            {"pipeline_released", s.released},
            {"pipeline_released_after_wait", s.released_after_wait},
            {"pipeline_dropped_full", s.dropped_full},
            {"pipeline_dropped_handler", s.dropped_handler},
            {"pipeline_in_flight", s.in_flight}};
}

void AdapterPlane::count_drop(std::string_view reason) {
    const std::lock_guard lock(drops_mu_);
    const auto it = drops_.find(reason);
    if (it == drops_.end()) {
        drops_.emplace(std::string(reason), 1);
    } else {
        ++it->second;
    }
}

// ------------------------------------------------------------------------ management stage

void AdapterPlane::lan_loop() {
    std::vector<std::array<std::byte, kFrameBuffer>> in(kBatch);
    std::array<sockaddr_ll, kBatch> addrs{};
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    constexpr std::size_t kControl = CMSG_SPACE(sizeof(tpacket_auxdata));
    std::vector<std::array<std::byte, kControl>> control(kBatch);
    const int one = 1;
    if (::setsockopt(options_.lan_fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0) {
        spdlog::warn("lan: PACKET_AUXDATA: {}", std::strerror(errno));
    }
    while (noded::wait_readable(options_.lan_fd, stop_fd_)) {
        for (;;) {
            for (std::size_t i = 0; i < kBatch; ++i) {
                iov[i] = {in[i].data(), in[i].size()};
                msgs[i] = {};
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
                msgs[i].msg_hdr.msg_name = &addrs[i];
                msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_ll);
                msgs[i].msg_hdr.msg_control = control[i].data();
                msgs[i].msg_hdr.msg_controllen = kControl;
            }
            const int n =
                ::recvmmsg(options_.lan_fd, msgs.data(), kBatch, MSG_DONTWAIT | MSG_TRUNC, nullptr);
            if (n <= 0) {
                break;
            }
            for (int i = 0; i < n; ++i) {
                if (addrs[i].sll_pkttype == PACKET_OUTGOING) {
                    continue;  // our own frames and the kernel's
                }
                lan_frames_.fetch_add(1, std::memory_order_relaxed);
                if (msgs[i].msg_len > kMaxLanFrame) {
                    count_drop("lan_oversized");
                    continue;
                }
                bool checksum_pending = false;
                for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr;
                     c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
                    if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
                        tpacket_auxdata aux{};
                        std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
                        checksum_pending = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
                    }
                }
                on_lan_frame(ByteView(in[i].data(), msgs[i].msg_len), checksum_pending);
            }
            if (static_cast<std::size_t>(n) < kBatch) {
                break;
            }
        }
    }
}

void AdapterPlane::on_lan_frame(ByteView frame, bool checksum_pending) {
    const auto info = lan::classify(frame);
    if (!info) {
        count_drop(std::string("lan_") + std::string(info.error()));
        return;
    }
    switch (info->kind) {
        case lan::FrameKind::Arp:
        case lan::FrameKind::Dhcp4:
        case lan::FrameKind::Dhcp6:
        case lan::FrameKind::Ndp:
            lan_control_.fetch_add(1, std::memory_order_relaxed);
            lan_(Bytes(frame.begin(), frame.end()));
            return;
        case lan::FrameKind::Ipv4:
        case lan::FrameKind::Ipv6:
            break;
        case lan::FrameKind::Other:
            return;  // not IP: nothing of ours (LLDP, STP, ...)
    }
    if (info->dst != options_.mac) {
        return;  // between two devices of the link, or broadcast: not for the overlay
    }
    const IpAddress& dst = info->ip_dst;
    if (is_multicast(dst)) {
        return;
    }
    PacketJob job;
    {
        const std::shared_lock lock(table_mu_);
        if ((dst.is_v4() && gateway_v4_ && dst.v4() == *gateway_v4_) ||
            (dst.is_v6() && gateway_v6_ && dst.v6() == *gateway_v6_)) {
            return;  // the gateway itself (DNS, ping): the kernel answers
        }
        const auto gn = by_mac_.find(info->src);
        if (gn == by_mac_.end()) {
            count_drop("lan_unknown_mac");
            return;
        }
        const Node& node = nodes_.at(gn->second);
        if (!node.active) {
            count_drop("lan_inactive_node");
            return;
        }
        const bool own_source = info->ip_src.is_v4() ? node.v4 && info->ip_src.v4() == *node.v4
                                                     : node.v6 && info->ip_src.v6() == *node.v6;
        if (!own_source) {
            count_drop("lan_spoofed_source");
            return;
        }
        job.gn = gn->second;
        const auto route = routes_.find(RouteKey{job.gn, dst});
        if (route != routes_.end()) {
            job.path = route->second;
        }
    }
    if (!job.path) {
        count_drop("no_path");
        miss_(job.gn, dst);
        return;
    }
    job.dir = PacketJob::Dir::Out;
    job.checksum_pending = checksum_pending;
    const auto packet = frame.subspan(info->l3_offset, info->l3_size);
    job.data.assign(packet.begin(), packet.end());
    const std::uint64_t flow = mix(noded::IpAddressHash{}(dst) ^ job.gn);
    if (!pipeline_->submit(flow, std::move(job))) {
        count_drop("pipeline_full");
    }
}

void AdapterPlane::wan_loop() {
    std::vector<std::vector<std::byte>> in(kBatch, std::vector<std::byte>(kDatagramMax));
    std::array<sockaddr_storage, kBatch> addrs{};
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    while (noded::wait_readable(options_.udp_fd, stop_fd_)) {
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
                const Endpoint from = noded::from_sockaddr(addrs[i]);
                const auto messages = wire::split_datagram(datagram);
                if (!messages.has_value()) {
                    count_drop(std::string("bad_datagram_") +
                               std::string(wire::to_string(messages.error())));
                    continue;
                }
                bool capsules = !messages->empty();
                for (const auto& m : *messages) {
                    capsules = capsules && m.header.type == wire::MessageType::Capsule;
                }
                if (!capsules) {
                    control_(Bytes(datagram.begin(), datagram.end()), from);
                    continue;
                }
                PacketJob job;
                job.dir = PacketJob::Dir::In;
                job.data.assign(datagram.begin(), datagram.end());
                job.peer = from;
                std::uint64_t flow = 0;
                std::memcpy(&flow, messages->front().header.id.data(), sizeof flow);
                if (!pipeline_->submit(mix(flow) | 1U, std::move(job))) {
                    count_drop("pipeline_full");
                }
            }
            if (static_cast<std::size_t>(n) < kBatch) {
                break;
            }
        }
    }
}

// -------------------------------------------------------------------------- handling stage

bool AdapterPlane::handle(PacketJob& job) {
    if (job.dir == PacketJob::Dir::Out) {
        if (job.checksum_pending) {
            complete_l4_checksum(job.data);
        }
        job.out.resize(job.data.size() + 256);
        std::size_t size = 0;
        const auto r = job.path->seal(job.data, job.out, size, job.peer);
        auto& c = job.path->counters();
        if (r == noded::DataPath::SealResult::Sealed) {
            job.out.resize(size);
            c.tx_packets.fetch_add(1, std::memory_order_relaxed);
            c.tx_bytes.fetch_add(job.data.size(), std::memory_order_relaxed);
            c.last_traffic_ms.store(now_ms(), std::memory_order_relaxed);
            return true;
        }
        if (r != noded::DataPath::SealResult::Queued) {
            count_drop(r == noded::DataPath::SealResult::QueueFull ? "queue_full" : "seal_failed");
            c.drops.fetch_add(1, std::memory_order_relaxed);
        }
        return false;
    }
    thread_local std::vector<std::byte> plaintext(kDatagramMax);
    return handle_in(job, plaintext);
}

bool AdapterPlane::handle_in(PacketJob& job, MutableByteView plaintext) {
    const auto messages = wire::split_datagram(job.data);
    if (!messages) {
        return false;  // checked by the WAN thread already
    }
    for (const auto& m : *messages) {
        std::shared_ptr<noded::DataPath> path;
        Node node;
        {
            const std::shared_lock lock(table_mu_);
            const auto it = paths_.find(PathId(m.header.id));
            if (it == paths_.end()) {
                count_drop("unknown_path");
                continue;
            }
            path = it->second.path;
            const auto n = nodes_.find(it->second.gn);
            if (n == nodes_.end() || !n->second.active) {
                count_drop("inactive_node");
                continue;
            }
            node = n->second;
        }
        auto& c = path->counters();
        bool switched = false;
        const auto payload = path->open(m, plaintext, job.peer, switched);
        if (!payload) {
            count_drop(payload.error());
            c.drops.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (switched) {
            on_switch_(path->id(), job.peer);
        }
        // C18: from the peer's virtual address to this general node's, with an honest length.
        const auto inner = noded::inner_addresses(*payload);
        bool ok = inner.has_value();
        if (ok) {
            ok = inner->source.is_v4()
                     ? path->peer_v4() && inner->source.v4() == *path->peer_v4() && node.v4 &&
                           inner->destination.v4() == *node.v4
                     : path->peer_v6() && inner->source.v6() == *path->peer_v6() && node.v6 &&
                           inner->destination.v6() == *node.v6;
        }
        if (!ok) {
            count_drop("inner_address");
            c.drops.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        const std::size_t start = job.out.size();
        job.out.resize(start + lan::kEthernetHeaderSize + payload->size());
        lan::write_ethernet_header(
            MutableByteView(job.out).subspan(start), node.mac, options_.mac,
            inner->source.is_v4() ? lan::kEthertypeIpv4 : lan::kEthertypeIpv6);
        std::memcpy(job.out.data() + start + lan::kEthernetHeaderSize, payload->data(),
                    payload->size());
        job.frame_ends.push_back(job.out.size());
        c.rx_packets.fetch_add(1, std::memory_order_relaxed);
        c.rx_bytes.fetch_add(payload->size(), std::memory_order_relaxed);
        c.last_traffic_ms.store(now_ms(), std::memory_order_relaxed);
    }
    return !job.frame_ends.empty();
}

// --------------------------------------------------------------------------- staging stage

void AdapterPlane::release(std::span<PacketJob*> jobs) {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    std::array<sockaddr_storage, kBatch> addrs{};
    std::size_t count = 0;
    const auto flush_udp = [&] {
        std::size_t sent = 0;
        while (sent < count) {
            const int n =
                ::sendmmsg(options_.udp_fd, &msgs[sent], static_cast<unsigned>(count - sent), 0);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) {
                    std::array<pollfd, 1> p{{{options_.udp_fd, POLLOUT, 0}}};
                    ::poll(p.data(), 1, 10);
                    continue;
                }
                count_drop("send_failed");
                ++sent;
                continue;
            }
            sent += static_cast<std::size_t>(n);
        }
        datagrams_out_.fetch_add(count, std::memory_order_relaxed);
        count = 0;
    };
    for (PacketJob* job : jobs) {
        if (job->dir == PacketJob::Dir::In) {
            std::size_t begin = 0;
            for (const std::size_t end : job->frame_ends) {
                send_frame(ByteView(job->out).subspan(begin, end - begin));
                begin = end;
            }
            continue;
        }
        iov[count] = {job->out.data(), job->out.size()};
        msgs[count] = {};
        msgs[count].msg_hdr.msg_iov = &iov[count];
        msgs[count].msg_hdr.msg_iovlen = 1;
        msgs[count].msg_hdr.msg_name = &addrs[count];
        msgs[count].msg_hdr.msg_namelen = noded::to_sockaddr(job->peer, v6_socket_, addrs[count]);
        if (++count == kBatch) {
            flush_udp();
        }
    }
    flush_udp();
}

}  // namespace cyphonic::adapterd
