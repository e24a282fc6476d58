#!/usr/bin/env python3
"""UDP helpers for the e2e scenarios (standard library only; run inside a namespace with
`ip netns exec`).

  udp_tool.py listen ADDR PORT [PORT...] [--seconds S]
      Prints "PORT SRC_ADDR SRC_PORT" for every datagram received on ADDR:PORT and answers
      each with "pong"; exits after S seconds (default 5). Prints "ready" once bound.
  udp_tool.py probe FROM_PORT DEST:PORT [DEST:PORT...]
      From one local socket bound to FROM_PORT, sends "ping" to each destination in turn and
      prints "DEST:PORT pong" or "DEST:PORT timeout" (1 s each).
  udp_tool.py garbage DEST:PORT COUNT
      Sends COUNT datagrams of random bytes and random lengths (1-1400) to DEST:PORT, plus the
      edge lengths 0, 1 and 31 (one byte short of a Base Header).
  udp_tool.py replay PCAP DEST:PORT [--times N]
      Sends the UDP payload of every packet in PCAP (tcpdump -w, Ethernet link type) to
      DEST:PORT, N times each (default 1); prints how many datagrams it sent.

  udp_tool.py stream DEST:PORT COUNT [--size N] [--pps R]
      Sends COUNT datagrams of N bytes (default 200, at least 8) to DEST:PORT, each starting with
      its sequence number (0, 1, ...; 8 bytes, big-endian), as fast as it can or R per second;
      prints how many it sent.
  udp_tool.py sink ADDR PORT [--seconds S] [--idle I]
      Receives such a stream on ADDR:PORT ("ready" once bound) until S seconds have passed
      (default 30) or nothing came for I seconds after the first datagram (default 2), then
      prints one JSON line: received, highest (sequence number), missing, duplicates,
      reordered (datagrams that arrived after one with a higher sequence number) and
      max_displacement (how far below the highest seen so far the latest of them was).

DEST may be an IPv6 address in brackets: [fd77::22]:4800.
"""

import os
import select
import socket
import struct
import sys
import time


def endpoint(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    return host, int(port)


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listen(args):
    seconds = 5.0
    if "--seconds" in args:
        i = args.index("--seconds")
        seconds = float(args[i + 1])
        del args[i : i + 2]
    addr, ports = args[0], [int(p) for p in args[1:]]
    socks = []
    for port in ports:
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.bind((addr, port))
        s.setblocking(False)
        socks.append((port, s))
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([s for _, s in socks], [], [], 0.1)
        for port, s in socks:
            if s in ready:
                data, peer = s.recvfrom(65535)
                print(f"{port} {peer[0]} {peer[1]}", flush=True)
                s.sendto(b"pong", peer)


def probe(args):
    from_port, targets = int(args[0]), [endpoint(t) for t in args[1:]]
    s = socket.socket(family(targets[0][0]), socket.SOCK_DGRAM)
    s.bind(("::" if s.family == socket.AF_INET6 else "0.0.0.0", from_port))
    s.settimeout(1.0)
    for host, port in targets:
        s.sendto(b"ping", (host, port))
        try:
            data, _ = s.recvfrom(2048)
            print(f"{host}:{port} {data.decode(errors='replace')}", flush=True)
        except socket.timeout:
            print(f"{host}:{port} timeout", flush=True)


def garbage(args):
    host, port = endpoint(args[0])
    count = int(args[1])
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    sizes = [0, 1, 31] + [int.from_bytes(os.urandom(2), "big") % 1400 + 1 for _ in range(count)]
    for n in sizes:
        s.sendto(os.urandom(n), (host, port))
        time.sleep(0.002)
    print(len(sizes), flush=True)


def udp_payloads(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"replay: link type {linktype} is not Ethernet (capture on a veth, not 'any')")
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8 : off + 12])[0]
        frame = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        ethertype = struct.unpack("!H", frame[12:14])[0]
        packet = frame[14:]
        if ethertype == 0x0800 and packet[9] == 17:
            ihl = (packet[0] & 0x0F) * 4
            udp = packet[ihl:]
        elif ethertype == 0x86DD and packet[6] == 17:
            udp = packet[40:]
        else:
            continue
        length = struct.unpack("!H", udp[4:6])[0]
        yield udp[8:length]


def replay(args):
    times = 1
    if "--times" in args:
        i = args.index("--times")
        times = int(args[i + 1])
        del args[i : i + 2]
    payloads = list(udp_payloads(args[0]))
    host, port = endpoint(args[1])
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    sent = 0
    for _ in range(times):
        for p in payloads:
            s.sendto(p, (host, port))
            sent += 1
            time.sleep(0.002)
    print(sent, flush=True)


def stream(args):
    size, pps = 200, 0.0
    for flag in ("--size", "--pps"):
        if flag in args:
            i = args.index(flag)
            if flag == "--size":
                size = max(8, int(args[i + 1]))
            else:
                pps = float(args[i + 1])
            del args[i : i + 2]
    host, port = endpoint(args[0])
    count = int(args[1])
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.connect((host, port))
    padding = b"\0" * (size - 8)
    start = time.monotonic()
    sent = 0
    for seq in range(count):
        if pps > 0:
            delay = start + seq / pps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        try:
            s.send(struct.pack("!Q", seq) + padding)
            sent += 1
        except (BlockingIOError, ConnectionRefusedError):
            pass  # a full queue or an ICMP error: the datagram is lost, as over any network
    print(sent, flush=True)


def sink(args):
    import json

    seconds, idle = 30.0, 2.0
    for flag in ("--seconds", "--idle"):
        if flag in args:
            i = args.index(flag)
            value = float(args[i + 1])
            if flag == "--seconds":
                seconds = value
            else:
                idle = value
            del args[i : i + 2]
    addr, port = args[0], int(args[1])
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, port))
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    last = None
    seen = set()
    highest = -1
    received = duplicates = reordered = max_displacement = 0
    while True:
        now = time.monotonic()
        if now >= deadline or (last is not None and now - last >= idle):
            break
        ready, _, _ = select.select([s], [], [], 0.1)
        if not ready:
            continue
        data = s.recv(65535)
        last = time.monotonic()
        if len(data) < 8:
            continue
        seq = struct.unpack("!Q", data[:8])[0]
        received += 1
        if seq in seen:
            duplicates += 1
            continue
        seen.add(seq)
        if seq < highest:
            reordered += 1
            max_displacement = max(max_displacement, highest - seq)
        else:
            highest = seq
    missing = highest + 1 - len(seen) if highest >= 0 else 0
    print(json.dumps({"received": received, "highest": highest, "missing": missing,
                      "duplicates": duplicates, "reordered": reordered,
                      "max_displacement": max_displacement}), flush=True)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    command, args = sys.argv[1], sys.argv[2:]
    commands = {"listen": listen, "probe": probe, "garbage": garbage, "replay": replay,
                "stream": stream, "sink": sink}
    if command not in commands:
        sys.exit(__doc__)
    commands[command](args)


if __name__ == "__main__":
    main()
