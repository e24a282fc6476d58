#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "data_plane.hpp"
#include "lan/frame.hpp"
#include "lan/mac.hpp"
#include "pipeline/ordered_pipeline.hpp"

// The packet side of cyphonic-adapterd (thesis §4.2.1, ARCHITECTURE.md "How a packet flows"):
// a LAN thread reads the internal NIC's frames, a WAN thread the UDP socket; data packets of both
// directions go through one OrderedPipeline (management → handling by the workers → staging,
// which releases each flow in arrival order); control frames (ARP, DHCP, ND) and control
// datagrams go to the control thread. Each general node's PathManager sees the plane through its
// own PathTable view, so a path belongs to exactly one general node.
namespace cyphonic::adapterd {

using GnIndex = std::uint32_t;

// One packet in the pipeline.
struct PacketJob {
    enum class Dir : std::uint8_t { Out, In };
    Dir dir = Dir::Out;
    bool checksum_pending = false;  // Out: the sender left the TCP/UDP checksum to offload
    GnIndex gn = 0;
    std::shared_ptr<noded::DataPath> path;  // Out: the path it is sealed for
    Bytes data;                             // Out: the IP packet; In: the datagram
    Endpoint peer;                          // Out: filled by the worker; In: the sender
    Bytes out;                              // Out: sealed datagram; In: Ethernet frame(s)
    std::vector<std::size_t> frame_ends;    // In: end offset of each frame in `out`
};

// Fills in the TCP/UDP checksum of an IPv4/IPv6 packet whose sender left it to offload.
void complete_l4_checksum(MutableByteView packet) noexcept;

class AdapterPlane {
public:
    struct Options {
        int udp_fd = -1;  // non-blocking, owned by the caller
        int lan_fd = -1;  // non-blocking AF_PACKET socket, owned by the caller
        lan::MacAddress mac;
        unsigned workers = 4;
        bool staging = true;
        std::chrono::microseconds staging_wait{3000};
    };
    using ControlSink = std::function<void(Bytes datagram, Endpoint from)>;
    using LanSink = std::function<void(Bytes frame)>;
    using MissSink = std::function<void(GnIndex gn, IpAddress destination)>;
    using SwitchSink = std::function<void(PathId path, Endpoint to)>;

    AdapterPlane(Options options, ControlSink control, LanSink lan, MissSink miss,
                 SwitchSink on_switch);
    ~AdapterPlane();
    AdapterPlane(const AdapterPlane&) = delete;
    AdapterPlane& operator=(const AdapterPlane&) = delete;

    void start();
    void stop() noexcept;

    // Control thread: the gateway addresses (traffic to them is the kernel's).
    void set_gateway(std::optional<Ipv4Address> v4, std::optional<Ipv6Address> v6);
    // Control thread: a general node on the link; `active` once registered (4.2.2.7), before
    // that its frames are dropped.
    void set_general_node(GnIndex gn, const lan::MacAddress& mac, std::optional<Ipv4Address> v4,
                          std::optional<Ipv6Address> v6, bool active);
    void remove_general_node(GnIndex gn);
    // The path table of one general node (for its PathManager). Lives as long as the plane.
    noded::PathTable& table(GnIndex gn);

    // Any thread: one datagram out of the shared UDP socket / one frame onto the LAN.
    bool send(ByteView datagram, const Endpoint& to) noexcept;
    bool send_frame(ByteView frame) noexcept;

    [[nodiscard]] std::map<std::string, std::uint64_t> drops() const;
    [[nodiscard]] std::map<std::string, std::uint64_t> counters() const;
    void count_drop(std::string_view reason);

private:
    class View;
    struct Node {
        lan::MacAddress mac;
        std::optional<Ipv4Address> v4;
        std::optional<Ipv6Address> v6;
        bool active = false;
    };
    struct RouteKey {
        GnIndex gn = 0;
        IpAddress destination;
        friend bool operator==(const RouteKey&, const RouteKey&) = default;
    };
    struct RouteKeyHash {
        std::size_t operator()(const RouteKey& k) const noexcept;
    };
    struct Owned {
        GnIndex gn = 0;
        std::shared_ptr<noded::DataPath> path;
    };

    void add(GnIndex gn, const std::shared_ptr<noded::DataPath>& path);
    void remove(GnIndex gn, const PathId& id);
    std::shared_ptr<noded::DataPath> find(GnIndex gn, const PathId& id) const;
    void flush(GnIndex gn, noded::DataPath& path);

    void lan_loop();
    void wan_loop();
    void on_lan_frame(ByteView frame, bool checksum_pending);
    bool handle(PacketJob& job);
    bool handle_in(PacketJob& job, MutableByteView plaintext);
    void release(std::span<PacketJob*> jobs);

    Options options_;
    ControlSink control_;
    LanSink lan_;
    MissSink miss_;
    SwitchSink on_switch_;
    int stop_fd_ = -1;
    bool v6_socket_ = true;
    std::thread lan_thread_;
    std::thread wan_thread_;
    std::unique_ptr<OrderedPipeline<PacketJob>> pipeline_;

    mutable std::shared_mutex table_mu_;
    std::unordered_map<lan::MacAddress, GnIndex, lan::MacAddressHash> by_mac_;
    std::unordered_map<GnIndex, Node> nodes_;
    std::unordered_map<PathId, Owned, Id128Hash> paths_;
    std::unordered_map<RouteKey, std::shared_ptr<noded::DataPath>, RouteKeyHash> routes_;
    std::optional<Ipv4Address> gateway_v4_;
    std::optional<Ipv6Address> gateway_v6_;
    std::map<GnIndex, std::unique_ptr<View>> views_;  // control thread

    mutable std::mutex drops_mu_;
    std::map<std::string, std::uint64_t, std::less<>> drops_;
    std::atomic<std::uint64_t> lan_frames_{0};
    std::atomic<std::uint64_t> lan_control_{0};
    std::atomic<std::uint64_t> frames_out_{0};
    std::atomic<std::uint64_t> datagrams_out_{0};
};

}  // namespace cyphonic::adapterd
