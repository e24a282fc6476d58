#!/usr/bin/env python3
"""Writes the seed corpora of the wire fuzz targets from the golden plaintext vectors.

Reads tests/golden/plain/<type>.hex (header ‖ plaintext body, see tests/support/
sample_messages.hpp) and writes binary seeds named `seed-*` into tests/fuzz/corpus/<target>/:
  - body decoders: the body bytes (after the 32-byte header) of every type they decode;
  - base_header, stream_message: every whole golden message;
  - split_datagram: UDP datagrams of one or several messages, each message given the 16-byte
    trailer (zeros: the split does not check MACs), Message Length and Count to match.
Files not named `seed-*` (crash inputs kept by a fix) are left alone. Run from anywhere:
    python3 tests/fuzz/make_seed_corpus.py
"""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent
GOLDEN = ROOT.parent / "golden" / "plain"
CORPUS = ROOT / "corpus"

HEADER = 32
TRAILER = 16

BODY_TARGET = {
    "ack": "empty_body",
    "keep_alive": "empty_body",
    "hole_punching": "empty_body",
    "general_node_update_notify": "empty_body",
    "login_request": "login_request",
    "login_response": "login_response",
    "registration_request": "registration_request",
    "registration_response": "registration_response",
    "direction_request": "direction_request",
    "route_direction_to_responder": "route_direction",
    "route_direction_confirmation": "route_direction",
    "route_direction_to_initiator": "route_direction",
    "relay_request": "relay",
    "relay_response": "relay",
    "tunnel_request": "tunnel_request",
    "tunnel_response": "tunnel_response",
    "capsule": "capsule",
    "error": "error",
}

STREAM_TYPES = {"login_request", "login_response", "error"}

# Several messages per datagram (D9, C21): the first carries Count.
DATAGRAMS = {
    "keep_alive_x3": ["keep_alive", "keep_alive", "keep_alive"],
    "ack_registration_request": ["ack", "registration_request"],
    "capsule_x2": ["capsule", "capsule"],
    "path_mix": ["hole_punching", "tunnel_request", "capsule", "ack"],
    "route_direction_error": ["route_direction_to_initiator", "error"],
}


def read_hex(path):
    digits = []
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        digits.append("".join(line.split()))
    return bytes.fromhex("".join(digits))


def udp_message(message, count=0):
    """The plaintext message as a sealed-shaped UDP message: trailer appended, header fixed."""
    out = bytearray(message + bytes(TRAILER))
    out[7] = count
    out[12:14] = len(out).to_bytes(2, "big")
    return bytes(out)


def write(target, name, data, seen):
    if (target, data) in seen:
        return
    seen.add((target, data))
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"seed-{name}").write_bytes(data)


def main():
    messages = {p.stem: read_hex(p) for p in sorted(GOLDEN.glob("*.hex"))}
    if set(messages) != set(BODY_TARGET):
        raise SystemExit(f"golden files {sorted(messages)} do not match the type list")
    seen = set()
    for name, message in messages.items():
        body = message[HEADER:]
        target = BODY_TARGET[name]
        # Types sharing a body share one seed, named after the decoder.
        write(target, name if target == name else target, body, seen)
        write("base_header", name, message, seen)
        write("stream_message", name, message, seen)
        if name not in STREAM_TYPES:
            write("split_datagram", name, udp_message(message), seen)
    # A Tunnel Request body is a valid Tunnel Response body too, and an empty one is valid.
    write("tunnel_response", "tunnel_request", messages["tunnel_request"][HEADER:], seen)
    write("tunnel_response", "no_end_key", b"", seen)
    for name, parts in DATAGRAMS.items():
        datagram = udp_message(messages[parts[0]], len(parts) - 1)
        for part in parts[1:]:
            datagram += udp_message(messages[part])
        write("split_datagram", name, datagram, seen)


if __name__ == "__main__":
    main()
