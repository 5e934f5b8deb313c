#!/usr/bin/env python3
"""udp_replay.py: capture UDP datagrams to or from a port, and send them again, as they were or
altered, from another machine (raw IPv4/IPv6 packets, so the source address is the original one).

  udp_replay.py capture IFACE PORT SECONDS OUT   datagrams seen on IFACE to or from PORT, one JSON
                                                 line each (src, dst, sport, dport, payload hex)
  udp_replay.py send IN [--mutate none|last|mid|first] [--repeat N]
                                                 sends each datagram of IN again; --mutate flips one
                                                 byte of the payload (last, middle or first)

Used by the end-to-end tests to play a guest on a VPC bridge that replays lease messages it
captured, or forges them with a bad HMAC.
"""
import argparse
import ipaddress
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inject import checksum  # noqa: E402


def parse_ip(frame):
    """(src, dst, sport, dport, payload) of a UDP datagram in an Ethernet frame, or None."""
    eth_type = struct.unpack_from("!H", frame, 12)[0]
    off = 14
    if eth_type == 0x8100:
        eth_type = struct.unpack_from("!H", frame, 16)[0]
        off = 18
    if eth_type == 0x0800:
        ihl = (frame[off] & 0x0F) * 4
        if frame[off + 9] != 17:
            return None
        src, dst = ipaddress.ip_address(frame[off + 12:off + 16]), ipaddress.ip_address(
            frame[off + 16:off + 20])
        off += ihl
    elif eth_type == 0x86DD:
        if frame[off + 6] != 17:
            return None
        src, dst = ipaddress.ip_address(frame[off + 8:off + 24]), ipaddress.ip_address(
            frame[off + 24:off + 40])
        off += 40
    else:
        return None
    sport, dport, length = struct.unpack_from("!HHH", frame, off)
    return src, dst, sport, dport, frame[off + 8:off + length]


def capture(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
    s.bind((args.iface, 0))
    s.settimeout(0.1)
    print("ready", file=sys.stderr, flush=True)
    deadline = time.monotonic() + args.seconds
    count = 0
    with open(args.out, "w") as out:
        while time.monotonic() < deadline:
            try:
                frame, _ = s.recvfrom(65535)
            except socket.timeout:
                continue
            d = parse_ip(frame)
            if not d or args.port not in (d[2], d[3]):
                continue
            out.write(json.dumps({"src": str(d[0]), "dst": str(d[1]), "sport": d[2],
                                  "dport": d[3], "payload": d[4].hex()}) + "\n")
            out.flush()
            count += 1
    print(count)


def packet(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    if dst.version == 6:
        pseudo = src.packed + dst.packed + struct.pack("!I3xB", length, 17)
    else:
        pseudo = src.packed + dst.packed + struct.pack("!xBH", 17, length)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    if dst.version == 6:
        return struct.pack("!IHBB", 6 << 28, length, 17, 64) + src.packed + dst.packed + udp
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0, 0, 64, 17, 0, src.packed,
                       dst.packed) + udp


def send(args):
    socks = {4: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW),
             6: socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)}
    sent = 0
    with open(args.file) as f:
        msgs = [json.loads(line) for line in f if line.strip()]
    for _ in range(args.repeat):
        for m in msgs:
            payload = bytearray.fromhex(m["payload"])
            if payload and args.mutate != "none":
                i = {"last": len(payload) - 1, "mid": len(payload) // 2, "first": 0}[args.mutate]
                payload[i] ^= 0x5A
            src, dst = ipaddress.ip_address(m["src"]), ipaddress.ip_address(m["dst"])
            socks[dst.version].sendto(packet(src, dst, m["sport"], m["dport"], bytes(payload)),
                                      (str(dst), 0))
            sent += 1
    print(sent)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("iface")
    c.add_argument("port", type=int)
    c.add_argument("seconds", type=float)
    c.add_argument("out")
    s = sub.add_parser("send")
    s.add_argument("file")
    s.add_argument("--mutate", choices=["none", "last", "mid", "first"], default="none")
    s.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    return capture(args) if args.cmd == "capture" else send(args)


if __name__ == "__main__":
    sys.exit(main())
