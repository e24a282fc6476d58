#!/usr/bin/env python3
"""Raw-frame helpers for the adapter scenarios (standard library only; run inside a general
node's namespace with `ip netns exec`). Every malformed frame comes from the interface's own
MAC, so it passes the adapter's MAC admission and reaches the parser it is aimed at; each
command prints how many frames or datagrams it sent.

  lan_tool.py rs IFACE
      One ICMPv6 Router Solicitation to ff02::2 (with the source link-layer option), so the
      adapter's Router Advertisement comes now instead of at its next periodic one.
  lan_tool.py bad-dhcp4 IFACE COUNT
      Broadcast IPv4/UDP 68 -> 67 frames whose BOOTP/DHCP payload is broken: truncated below
      the fixed BOOTP header, wrong magic cookie, an option running past the end, no message
      type, an unknown message type, op = BOOTREPLY, a hardware length of 0.
  lan_tool.py bad-dhcp6 IFACE COUNT
      IPv6/UDP 546 -> 547 frames to ff02::1:2 with broken DHCPv6 messages (valid UDP checksum):
      empty, a message type of 0, an option running past the end, a SOLICIT without a Client ID.
  lan_tool.py bad-arp IFACE COUNT
      ARP frames that are truncated or carry impossible hardware/protocol types and lengths or
      an unknown opcode.
  lan_tool.py bad-ip IFACE DST_MAC COUNT
      IPv4 and IPv6 frames to DST_MAC with broken headers (IHL below 5, total length beyond the
      frame, wrong version, payload length beyond the frame).
  lan_tool.py oversized IFACE DST_MAC COUNT SIZE
      IPv4/UDP frames of SIZE bytes (more than the 1514 of an Ethernet frame: the interfaces
      on the way need a larger MTU for them to arrive).
  lan_tool.py bad-dns SERVER COUNT
      UDP datagrams to SERVER:53 that are not DNS queries: shorter than the 12-byte header,
      more questions than present, a label running past the end, a compression pointer loop,
      a response instead of a query.
"""

import os
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
BROADCAST = b"\xff" * 6


def mac_bytes(text):
    return bytes(int(part, 16) for part in text.split(":"))


def own_mac(iface):
    with open(f"/sys/class/net/{iface}/address") as f:
        return mac_bytes(f.read().strip())


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src, dst, proto, payload, total_length=None, ihl=5, version=4):
    length = total_length if total_length is not None else 20 + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, length, 0, 0x4000, 64,
                         proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def udp4(src, dst, sport, dport, payload):
    # UDP checksum 0: "none" is allowed over IPv4.
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def link_local(iface):
    with open("/proc/net/if_inet6") as f:
        for line in f:
            addr, _, _, scope, _, name = line.split()
            if name == iface and scope == "20":
                return bytes.fromhex(addr)
    return socket.inet_pton(socket.AF_INET6, "fe80::1")


def udp6(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    pseudo = src + dst + struct.pack("!IxxxB", length, 17)
    header = struct.pack("!HHHH", sport, dport, length, 0)
    csum = checksum(pseudo + header + payload) or 0xFFFF
    udp = struct.pack("!HHHH", sport, dport, length, csum) + payload
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 255, src, dst)
    return ip + udp


def ethernet(dst, src, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def raw_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    return s


def send_frames(iface, frames, count):
    s = raw_socket(iface)
    sent = 0
    for i in range(count):
        s.send(frames[i % len(frames)])
        sent += 1
        time.sleep(0.002)
    print(sent, flush=True)


def bootp(mac, op=1, htype=1, hlen=6, cookie=b"\x63\x82\x53\x63", options=b""):
    fixed = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", op, htype, hlen, 0,
                        int.from_bytes(os.urandom(4), "big"), 0, 0x8000, b"\0" * 4, b"\0" * 4,
                        b"\0" * 4, b"\0" * 4, mac + b"\0" * 10, b"\0" * 64, b"\0" * 128)
    return fixed + cookie + options


def bad_dhcp4(args):
    iface, count = args[0], int(args[1])
    mac = own_mac(iface)
    discover = b"\x35\x01\x01"
    payloads = [
        os.urandom(40),                                             # truncated BOOTP header
        bootp(mac, cookie=b"\xde\xad\xbe\xef", options=discover + b"\xff"),  # bad cookie
        bootp(mac, options=b"\x35\x01\x01\x32\xf0\x0a\x00"),        # option 50 runs past the end
        bootp(mac, options=b"\x0c\x03abc\xff"),                     # no message type option
        bootp(mac, options=b"\x35\x01\x63\xff"),                    # message type 99
        bootp(mac, op=2, options=discover + b"\xff"),               # BOOTREPLY from a client
        bootp(mac, hlen=0, options=discover + b"\xff"),             # hardware length 0
        bootp(mac, options=b"\x35\x00\xff"),                        # message type of length 0
    ]
    frames = [ethernet(BROADCAST, mac, 0x0800, udp4("0.0.0.0", "255.255.255.255", 68, 67, p))
              for p in payloads]
    send_frames(iface, frames, count)


def bad_dhcp6(args):
    iface, count = args[0], int(args[1])
    mac = own_mac(iface)
    src = link_local(iface)
    dst = socket.inet_pton(socket.AF_INET6, "ff02::1:2")
    txid = b"\x12\x34\x56"
    payloads = [
        b"",                                                         # empty
        b"\x01",                                                     # type only, no transaction
        b"\x00" + txid,                                              # message type 0
        b"\x01" + txid + b"\x00\x01\x02\x00\x00\x01",                # option runs past the end
        b"\x01" + txid + b"\x00\x08\x00\x02\x00\x00",                # SOLICIT without Client ID
        b"\x01" + txid + b"\x00\x03\x00\x04\x00\x00\x00\x01",        # IA_NA shorter than 12
    ]
    mcast_mac = b"\x33\x33\x00\x01\x00\x02"
    frames = [ethernet(mcast_mac, mac, 0x86DD, udp6(src, dst, 546, 547, p)) for p in payloads]
    send_frames(iface, frames, count)


def bad_arp(args):
    iface, count = args[0], int(args[1])
    mac = own_mac(iface)
    ip = b"\x0a\x63\x00\x01"

    def arp(htype=1, ptype=0x0800, hlen=6, plen=4, op=1, tail=None):
        body = struct.pack("!HHBBH", htype, ptype, hlen, plen, op)
        return body + (tail if tail is not None else mac + ip + b"\0" * 6 + ip)

    payloads = [
        arp()[:12],                   # truncated in the sender's address (a Linux bridge
                                      # drops frames that end inside the fixed part)
        arp()[:20],                   # truncated inside the addresses
        arp(hlen=7),                  # hardware length 7 for Ethernet
        arp(plen=16),                 # protocol length 16 for IPv4 (and too short for it)
        arp(htype=0x1234),            # unknown hardware type
        arp(ptype=0x86DD),            # protocol IPv6
        arp(op=9),                    # unknown opcode
    ]
    frames = [ethernet(BROADCAST, mac, 0x0806, p) for p in payloads]
    send_frames(iface, frames, count)


def bad_ip(args):
    iface, dst_mac, count = args[0], mac_bytes(args[1]), int(args[2])
    mac = own_mac(iface)
    udp = struct.pack("!HHHH", 40000, 9, 12, 0) + b"abcd"
    v6src = link_local(iface)
    v6dst = socket.inet_pton(socket.AF_INET6, "fe80::2")
    payloads = [
        (0x0800, ipv4("10.99.0.200", "10.99.0.1", 17, udp, ihl=4)),           # IHL 4
        (0x0800, ipv4("10.99.0.200", "10.99.0.1", 17, udp, total_length=1400)),  # too long
        (0x0800, ipv4("10.99.0.200", "10.99.0.1", 17, udp, version=6)),       # version 6
        (0x0800, b"\x45\x00"),                                                # 2 bytes
        (0x86DD, struct.pack("!IHBB16s16s", 6 << 28, 1400, 17, 64, v6src, v6dst) + udp),
        (0x86DD, struct.pack("!IHBB", 6 << 28, 8, 17, 64)),                   # truncated header
    ]
    frames = [ethernet(dst_mac, mac, t, p) for t, p in payloads]
    send_frames(iface, frames, count)


def oversized(args):
    iface, dst_mac, count, size = args[0], mac_bytes(args[1]), int(args[2]), int(args[3])
    mac = own_mac(iface)
    payload = b"\0" * (size - 14 - 20 - 8)
    frame = ethernet(dst_mac, mac, 0x0800, udp4("10.99.0.200", "10.99.0.1", 40000, 9, payload))
    send_frames(iface, [frame], count)


def bad_dns(args):
    server, count = args[0], int(args[1])
    query_header = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    payloads = [
        b"",
        os.urandom(5),                                                     # below the header
        struct.pack("!HHHHHH", 1, 0x0100, 5, 0, 0, 0) + b"\x01a\x00\x00\x01\x00\x01",  # 5 questions, 1 there
        query_header + b"\x3fabc",                                         # label past the end
        query_header + b"\xc0\x0c\x00\x01\x00\x01",                        # pointer to itself
        struct.pack("!HHHHHH", 2, 0x8180, 1, 1, 0, 0) + b"\x01a\x00\x00\x01\x00\x01",  # a response
        query_header + b"\x01a\x00\x00\x01",                               # question cut short
    ]
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    sent = 0
    for i in range(count):
        s.sendto(payloads[i % len(payloads)], (server, 53))
        sent += 1
        time.sleep(0.002)
    print(sent, flush=True)


def router_solicitation(args):
    iface = args[0]
    index = socket.if_nametoindex(iface)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
    # Type 133, code 0, checksum (the kernel fills it in), reserved; source link-layer option.
    message = struct.pack("!BBHI", 133, 0, 0, 0) + b"\x01\x01" + own_mac(iface)
    s.sendto(message, ("ff02::2", 0, 0, index))
    print(1, flush=True)


def main():
    commands = {"rs": (router_solicitation, 1), "bad-dhcp4": (bad_dhcp4, 2),
                "bad-dhcp6": (bad_dhcp6, 2), "bad-arp": (bad_arp, 2), "bad-ip": (bad_ip, 3),
                "oversized": (oversized, 4), "bad-dns": (bad_dns, 2)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    function, nargs = commands[sys.argv[1]]
    if len(sys.argv) - 2 != nargs:
        sys.exit(__doc__)
    function(sys.argv[2:])


if __name__ == "__main__":
    main()
