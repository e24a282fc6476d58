#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/signaling/sealed_message.hpp"

// Packet hook and packet handling of cyphonicd (ARCHITECTURE.md "How a packet flows"): one
// thread moves IP packets from the TUN into Capsules on the UDP socket, one moves received
// Capsules into the TUN. Everything else that arrives on the socket is handed to the control
// thread. The control thread installs and removes paths; the packet threads only read them.
namespace cyphonic::noded {

using Clock = std::chrono::steady_clock;

// Traffic of one path, readable from any thread (status).
struct PathCounters {
    std::atomic<std::uint64_t> tx_packets{0};
    std::atomic<std::uint64_t> tx_bytes{0};
    std::atomic<std::uint64_t> rx_packets{0};
    std::atomic<std::uint64_t> rx_bytes{0};
    std::atomic<std::uint64_t> drops{0};
    std::atomic<std::int64_t> last_traffic_ms{0};  // steady clock, either direction
};

// Where Capsules of a path go and how they are sealed.
struct Destination {
    Endpoint to;
    bool relayed = false;                   // RELAYED flag on Capsules; `to` is the TRS
    std::optional<Endpoint> relay;          // the TRS while relayed
    bool switch_on_direct_receive = false;  // §7.7 step 4 (responder): first direct Capsule wins
};

// The data-plane half of one path (PathID): the End Keys and the destination. Methods lock
// internally; the sending and the receiving half have separate locks so the two packet
// threads never wait for each other.
class DataPath {
public:
    DataPath(PathId id, std::optional<Ipv4Address> peer_v4, std::optional<Ipv6Address> peer_v6);

    [[nodiscard]] const PathId& id() const noexcept { return id_; }
    [[nodiscard]] const std::optional<Ipv4Address>& peer_v4() const noexcept { return peer_v4_; }
    [[nodiscard]] const std::optional<Ipv6Address>& peer_v6() const noexcept { return peer_v6_; }
    PathCounters& counters() noexcept { return counters_; }
    [[nodiscard]] const PathCounters& counters() const noexcept { return counters_; }

    // Control thread: the sending End Key with its Transaction ID. Packets queued while the
    // tunnel was being set up are returned to be sent (by flush()).
    void install_sender(signaling::Sealer sealer, std::uint32_t transaction_id);
    void set_destination(const Destination& destination);
    [[nodiscard]] Destination destination() const;
    // The receiving End Key; the previous one stays valid for `overlap` (rekey, §7.5).
    void install_receiver(signaling::Opener opener, std::chrono::milliseconds overlap);
    [[nodiscard]] bool sender_ready() const;

    // Packet threads.
    enum class SealResult : std::uint8_t { Sealed, Queued, QueueFull, Failed };
    // Seals `packet` into `out` (or queues it while no End Key is installed).
    SealResult seal(ByteView packet, MutableByteView out, std::size_t& size, Endpoint& to);
    // Opens one Capsule message; returns the payload view into `plaintext` or the reason.
    Expected<ByteView, std::string_view> open(const wire::MessageView& message,
                                              MutableByteView plaintext, const Endpoint& from,
                                              bool& switched);
    // Control thread: takes the packets queued before the sender was installed.
    std::deque<Bytes> take_queued();

private:
    PathId id_;
    std::optional<Ipv4Address> peer_v4_;
    std::optional<Ipv6Address> peer_v6_;
    PathCounters counters_;

    mutable std::mutex tx_mu_;
    std::optional<signaling::Sealer> sealer_;
    std::uint32_t transaction_id_ = 0;
    Destination destination_;
    std::deque<Bytes> queued_;

    std::mutex rx_mu_;
    std::optional<signaling::Opener> opener_;
    std::optional<signaling::Opener> previous_;
    Clock::time_point previous_until_{};
};

struct IpAddressHash {
    std::size_t operator()(const IpAddress& a) const noexcept;
};

// What PathManager needs of a data plane: the path table and the shared socket. cyphonicd's
// DataPlane is one; the adapter gives each general node a view of its own data plane.
class PathTable {
public:
    PathTable() = default;
    virtual ~PathTable() = default;
    PathTable(const PathTable&) = delete;
    PathTable& operator=(const PathTable&) = delete;

    // Control thread: add() also routes the path's peer addresses to it.
    virtual void add(const std::shared_ptr<DataPath>& path) = 0;
    virtual void remove(const PathId& id) = 0;
    [[nodiscard]] virtual std::shared_ptr<DataPath> find(const PathId& id) const = 0;
    // Any thread: one datagram out of the shared socket.
    virtual bool send(ByteView datagram, const Endpoint& to) noexcept = 0;
    // Control thread: seals and sends packets queued before a path's tunnel was up.
    virtual void flush(DataPath& path) = 0;
};

// The two packet threads and the socket they share with the control thread (D13: one socket
// for NMS, TRS and peers).
class DataPlane final : public PathTable {
public:
    struct Options {
        int udp_fd = -1;  // non-blocking, owned by the caller
        int tun_fd = -1;  // non-blocking, owned by the caller
        std::size_t mtu = 1360;
    };
    // Called on the receive thread with a datagram that holds messages other than Capsules.
    using ControlSink = std::function<void(Bytes datagram, Endpoint from)>;
    // Called on the send thread for a packet to an overlay address with no path.
    using MissSink = std::function<void(IpAddress destination)>;
    // Called on the receive thread when a relayed path switched to `to` (§7.7 step 4).
    using SwitchSink = std::function<void(PathId path, Endpoint to)>;

    DataPlane(Options options, ControlSink control, MissSink miss, SwitchSink on_switch);
    ~DataPlane() override;
    DataPlane(const DataPlane&) = delete;
    DataPlane& operator=(const DataPlane&) = delete;

    void start();
    void stop() noexcept;

    // Control thread: the node's own virtual addresses (destination check of C18).
    void set_local(std::optional<Ipv4Address> v4, std::optional<Ipv6Address> v6);
    // Control thread: path table. add() also routes the path's peer addresses to it.
    void add(const std::shared_ptr<DataPath>& path) override;
    void remove(const PathId& id) override;
    [[nodiscard]] std::shared_ptr<DataPath> find(const PathId& id) const override;

    // Any thread: one datagram out of the shared socket.
    bool send(ByteView datagram, const Endpoint& to) noexcept override;
    // Control thread: seals and sends packets queued before a path's tunnel was up.
    void flush(DataPath& path) override;

    [[nodiscard]] std::map<std::string, std::uint64_t> drops() const;
    void count_drop(std::string_view reason);

private:
    void send_loop();
    void receive_loop();
    void handle_capsule(const wire::MessageView& message, const Endpoint& from,
                        MutableByteView plaintext);
    std::shared_ptr<DataPath> route(const IpAddress& destination) const;

    Options options_;
    ControlSink control_;
    MissSink miss_;
    SwitchSink on_switch_;
    int stop_fd_ = -1;
    bool v6_socket_ = true;
    std::thread sender_;
    std::thread receiver_;

    mutable std::shared_mutex table_mu_;
    std::unordered_map<PathId, std::shared_ptr<DataPath>, Id128Hash> paths_;
    std::unordered_map<IpAddress, std::shared_ptr<DataPath>, IpAddressHash> routes_;
    std::optional<Ipv4Address> local_v4_;
    std::optional<Ipv6Address> local_v6_;

    mutable std::mutex drops_mu_;
    std::map<std::string, std::uint64_t, std::less<>> drops_;
};

// Socket helpers shared by the packet threads of both daemons.
// sockaddr for `to` on a socket of the given family (IPv4 as a mapped address on IPv6).
socklen_t to_sockaddr(const Endpoint& to, bool v6_socket, sockaddr_storage& out);
[[nodiscard]] Endpoint from_sockaddr(const sockaddr_storage& from);
// Blocks until `fd` is readable (true) or `stop_fd` is (false).
[[nodiscard]] bool wait_readable(int fd, int stop_fd);
// Whether a socket is IPv6 (dual-stack) rather than IPv4.
[[nodiscard]] bool is_v6_socket(int fd);

// The UDP socket of the daemon: IPv6 dual-stack on `port` (IPv4 peers appear as mapped
// addresses), or IPv4 only where the host has no IPv6. Non-blocking, large buffers.
[[nodiscard]] Expected<int, std::string> open_udp_socket(std::uint16_t port, int buffer_bytes);

}  // namespace cyphonic::noded
