#include "cyphonic/sys/netlink.hpp"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>
#include <new>

#include <fmt/format.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>

#include "libnl_util.hpp"

namespace cyphonic::sys {

struct Netlink::State {
    detail::NlSocket socket;
    // Filled by on_kernel_error() for the request in flight: libnl turns the kernel's errno into
    // its own, coarser codes ("Object exists"), and drops the extended ack text.
    int kernel_errno = 0;
    std::string kernel_message;
};

namespace {

using detail::errno_text;

// libnl error callback: remembers the kernel's errno and extended ack message, then lets libnl
// fail the request as usual (NL_STOP makes it return its own code for the same errno).
// noexcept: it is called from C code, which an exception must not cross.
int on_kernel_error(sockaddr_nl* /*from*/, nlmsgerr* error, void* arg) noexcept {
    auto* state = static_cast<Netlink::State*>(arg);
    state->kernel_errno = -error->error;
    state->kernel_message.clear();

    // libnl passes the payload of an NLMSG_ERROR message, which starts right after its header:
    // [nlmsghdr][nlmsgerr][the request, unless NLM_F_CAPPED][attributes, if NLM_F_ACK_TLVS].
    const auto* message = reinterpret_cast<const unsigned char*>(error) - NLMSG_HDRLEN;
    nlmsghdr header{};
    std::memcpy(&header, message, sizeof header);
    if ((header.nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
        return NL_STOP;
    }
    std::size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
    if ((header.nlmsg_flags & NLM_F_CAPPED) == 0) {
        if (error->msg.nlmsg_len < NLMSG_HDRLEN) {
            return NL_STOP;
        }
        offset += error->msg.nlmsg_len - NLMSG_HDRLEN;
    }
    offset = NLMSG_ALIGN(offset);
    if (offset >= header.nlmsg_len) {
        return NL_STOP;
    }
    const auto* attributes = reinterpret_cast<const nlattr*>(message + offset);
    const nlattr* text =
        nla_find(attributes, static_cast<int>(header.nlmsg_len - offset), NLMSGERR_ATTR_MSG);
    if (text != nullptr) {
        const auto* chars = static_cast<const char*>(nla_data(text));
        state->kernel_message.assign(chars,
                                     strnlen(chars, static_cast<std::size_t>(nla_len(text))));
    }
    return NL_STOP;
}

std::string interface_label(int ifindex) {
    char name[IF_NAMESIZE] = {};
    if (if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr) {
        return name;
    }
    return fmt::format("ifindex {}", ifindex);
}

std::optional<std::string> check_prefix(const IpAddress& address, unsigned prefix_len) {
    const unsigned max = address.is_v4() ? 32U : 128U;
    if (prefix_len > max) {
        return fmt::format("prefix length {} is longer than {} bits", prefix_len, max);
    }
    return std::nullopt;
}

// Routes name a network: bits past the prefix length must be zero. The kernel refuses them for
// IPv4 but silently clears them for IPv6; refusing both keeps what we record what exists.
std::optional<std::string> check_network(const IpAddress& prefix, unsigned prefix_len) {
    if (auto bad = check_prefix(prefix, prefix_len)) {
        return bad;
    }
    const ByteView bytes =
        prefix.is_v4() ? ByteView(prefix.v4().bytes) : ByteView(prefix.v6().bytes);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const std::size_t first_bit = i * 8;
        unsigned host_mask = 0xFFU;  // the bits of this byte past the prefix
        if (first_bit + 8 <= prefix_len) {
            host_mask = 0;
        } else if (first_bit < prefix_len) {
            host_mask = 0xFFU >> (prefix_len - first_bit);
        }
        if ((static_cast<unsigned>(bytes[i]) & host_mask) != 0) {
            return fmt::format("host bits set (not a network address for /{})", prefix_len);
        }
    }
    return std::nullopt;
}

// The errno values that mean "there is nothing to remove": no such address, no such route, no
// such interface.
bool is_missing(int error) {
    return error == EADDRNOTAVAIL || error == ESRCH || error == ENOENT || error == ENODEV;
}

}  // namespace

Netlink::Netlink(std::unique_ptr<State> state) : state_(std::move(state)) {}
Netlink::Netlink(Netlink&&) noexcept = default;
Netlink& Netlink::operator=(Netlink&&) noexcept = default;
Netlink::~Netlink() = default;

Expected<Netlink, std::string> Netlink::open() {
    auto state = std::make_unique<State>();
    state->socket.reset(nl_socket_alloc());
    if (!state->socket) {
        return fail(std::string("netlink: cannot allocate a socket"));
    }
    nl_sock* socket = state->socket.get();
    if (const int err = nl_connect(socket, NETLINK_ROUTE); err < 0) {
        return fail(fmt::format("netlink: connect: {}", nl_geterror(err)));
    }
    // Ask for the kernel's explanation in error answers ("Nexthop device is not up") and not
    // for a copy of our own request. Older kernels lack these options; their errors stay plain.
    const int fd = nl_socket_get_fd(socket);
    const int one = 1;
    static_cast<void>(setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one));
    static_cast<void>(setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one));
    if (const int err = nl_socket_modify_err_cb(socket, NL_CB_CUSTOM, on_kernel_error, state.get());
        err < 0) {
        return fail(fmt::format("netlink: error callback: {}", nl_geterror(err)));
    }
    return Netlink(std::move(state));
}

namespace {

// Runs one libnl request and turns a failure into "<what>: <reason>".
template <class Request>
Expected<void, std::string> run(Netlink::State& state, const std::string& what,
                                IfMissing if_missing, Request&& request) {
    state.kernel_errno = 0;
    state.kernel_message.clear();
    const int err = std::forward<Request>(request)(state.socket.get());
    if (err >= 0) {
        return {};
    }
    if (state.kernel_errno == 0) {
        return fail(fmt::format("{}: {}", what, nl_geterror(err)));  // failed before the kernel
    }
    if (if_missing == IfMissing::Ignore && is_missing(state.kernel_errno)) {
        return {};
    }
    std::string text = fmt::format("{}: {}", what, errno_text(state.kernel_errno));
    if (!state.kernel_message.empty()) {
        text += fmt::format(" ({})", state.kernel_message);
    }
    return fail(std::move(text));
}

}  // namespace

Expected<void, std::string> Netlink::set_link_up(int ifindex, std::optional<unsigned> mtu) {
    const std::string what =
        mtu ? fmt::format("set {} up with mtu {}", interface_label(ifindex), *mtu)
            : fmt::format("set {} up", interface_label(ifindex));
    detail::RtnlLink current;
    auto found = run(*state_, what, IfMissing::Fail, [&](nl_sock* socket) {
        rtnl_link* link = nullptr;
        const int err = rtnl_link_get_kernel(socket, ifindex, nullptr, &link);
        current.reset(link);
        return err;
    });
    if (!found) {
        return found;
    }
    const detail::RtnlLink change(rtnl_link_alloc());
    if (!change) {
        return fail(fmt::format("{}: out of memory", what));
    }
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (mtu) {
        rtnl_link_set_mtu(change.get(), *mtu);
    }
    return run(*state_, what, IfMissing::Fail, [&](nl_sock* socket) {
        return rtnl_link_change(socket, current.get(), change.get(), 0);
    });
}

namespace {

// An rtnl_addr for `address/prefix_len` on `ifindex`, or null when libnl is out of memory.
detail::RtnlAddr make_addr(int ifindex, const IpAddress& address, unsigned prefix_len) {
    detail::RtnlAddr addr(rtnl_addr_alloc());
    const detail::NlAddr local = detail::to_nl_addr(address, prefix_len);
    if (!addr || !local || rtnl_addr_set_local(addr.get(), local.get()) < 0) {
        return nullptr;
    }
    rtnl_addr_set_ifindex(addr.get(), ifindex);
    rtnl_addr_set_prefixlen(addr.get(), static_cast<int>(prefix_len));
    return addr;
}

// A link-scope route in the main table for `prefix/prefix_len` through `ifindex`.
detail::RtnlRoute make_route(int ifindex, const IpAddress& prefix, unsigned prefix_len) {
    detail::RtnlRoute route(rtnl_route_alloc());
    const detail::NlAddr dst = detail::to_nl_addr(prefix, prefix_len);
    detail::RtnlNexthop hop(rtnl_route_nh_alloc());
    if (!route || !dst || !hop) {
        return nullptr;
    }
    rtnl_route_set_family(route.get(), prefix.is_v4() ? AF_INET : AF_INET6);
    if (rtnl_route_set_dst(route.get(), dst.get()) < 0) {
        return nullptr;
    }
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
    rtnl_route_set_type(route.get(), RTN_UNICAST);
    rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
    rtnl_route_nh_set_ifindex(hop.get(), ifindex);
    rtnl_route_add_nexthop(route.get(), hop.release());  // the route owns the next hop now
    return route;
}

}  // namespace

Expected<void, std::string> Netlink::add_address(int ifindex, const IpAddress& address,
                                                 unsigned prefix_len) {
    const std::string what =
        fmt::format("add {}/{} on {}", address, prefix_len, interface_label(ifindex));
    if (const auto bad = check_prefix(address, prefix_len)) {
        return fail(fmt::format("{}: {}", what, *bad));
    }
    const detail::RtnlAddr addr = make_addr(ifindex, address, prefix_len);
    if (!addr) {
        return fail(fmt::format("{}: out of memory", what));
    }
    if (address.is_v6()) {
        // No duplicate address detection: the address would be tentative (unusable as a source)
        // for a second or more, and the virtual IP is unique by construction (NMS assigns it).
        rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
    }
    return run(*state_, what, IfMissing::Fail,
               [&](nl_sock* socket) { return rtnl_addr_add(socket, addr.get(), NLM_F_EXCL); });
}

Expected<void, std::string> Netlink::remove_address(int ifindex, const IpAddress& address,
                                                    unsigned prefix_len, IfMissing if_missing) {
    const std::string what =
        fmt::format("remove {}/{} from {}", address, prefix_len, interface_label(ifindex));
    if (const auto bad = check_prefix(address, prefix_len)) {
        return fail(fmt::format("{}: {}", what, *bad));
    }
    const detail::RtnlAddr addr = make_addr(ifindex, address, prefix_len);
    if (!addr) {
        return fail(fmt::format("{}: out of memory", what));
    }
    return run(*state_, what, if_missing,
               [&](nl_sock* socket) { return rtnl_addr_delete(socket, addr.get(), 0); });
}

Expected<void, std::string> Netlink::add_route(int ifindex, const IpAddress& prefix,
                                               unsigned prefix_len) {
    const std::string what =
        fmt::format("add route {}/{} dev {}", prefix, prefix_len, interface_label(ifindex));
    if (const auto bad = check_network(prefix, prefix_len)) {
        return fail(fmt::format("{}: {}", what, *bad));
    }
    const detail::RtnlRoute route = make_route(ifindex, prefix, prefix_len);
    if (!route) {
        return fail(fmt::format("{}: out of memory", what));
    }
    return run(*state_, what, IfMissing::Fail,
               [&](nl_sock* socket) { return rtnl_route_add(socket, route.get(), NLM_F_EXCL); });
}

Expected<void, std::string> Netlink::remove_route(int ifindex, const IpAddress& prefix,
                                                  unsigned prefix_len, IfMissing if_missing) {
    const std::string what =
        fmt::format("remove route {}/{} dev {}", prefix, prefix_len, interface_label(ifindex));
    if (const auto bad = check_network(prefix, prefix_len)) {
        return fail(fmt::format("{}: {}", what, *bad));
    }
    const detail::RtnlRoute route = make_route(ifindex, prefix, prefix_len);
    if (!route) {
        return fail(fmt::format("{}: out of memory", what));
    }
    return run(*state_, what, if_missing,
               [&](nl_sock* socket) { return rtnl_route_delete(socket, route.get(), 0); });
}

Expected<std::vector<InterfaceAddress>, std::string> Netlink::addresses() {
    detail::NlCache links;
    detail::NlCache addrs;
    auto dumped = run(*state_, "list interfaces", IfMissing::Fail, [&](nl_sock* socket) {
        nl_cache* cache = nullptr;
        const int err = rtnl_link_alloc_cache(socket, AF_UNSPEC, &cache);
        links.reset(cache);
        return err;
    });
    if (!dumped) {
        return fail(dumped.error());
    }
    dumped = run(*state_, "list addresses", IfMissing::Fail, [&](nl_sock* socket) {
        nl_cache* cache = nullptr;
        const int err = rtnl_addr_alloc_cache(socket, &cache);
        addrs.reset(cache);
        return err;
    });
    if (!dumped) {
        return fail(dumped.error());
    }

    std::vector<InterfaceAddress> out;
    for (nl_object* object = nl_cache_get_first(addrs.get()); object != nullptr;
         object = nl_cache_get_next(object)) {
        auto* addr = reinterpret_cast<rtnl_addr*>(object);  // an address cache holds rtnl_addr
        const auto address = detail::from_nl_addr(rtnl_addr_get_local(addr));
        if (!address) {
            continue;  // neither IPv4 nor IPv6 (the cache is AF_UNSPEC)
        }
        InterfaceAddress entry;
        entry.ifindex = rtnl_addr_get_ifindex(addr);
        char name[IF_NAMESIZE] = {};
        if (rtnl_link_i2name(links.get(), entry.ifindex, name, sizeof name) != nullptr) {
            entry.ifname = name;
        }
        entry.address = *address;
        entry.prefix_len = static_cast<unsigned>(rtnl_addr_get_prefixlen(addr));
        entry.global_scope = rtnl_addr_get_scope(addr) == RT_SCOPE_UNIVERSE;
        const unsigned flags = rtnl_addr_get_flags(addr);
        entry.tentative_or_deprecated =
            (flags & (IFA_F_TENTATIVE | IFA_F_DEPRECATED | IFA_F_DADFAILED)) != 0;
        out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace cyphonic::sys
