#!/usr/bin/env python3
"""inject.py SRC DST VNI_LO VNI_HI MAC_HEX SENDER_IP TARGET_IP [PORT]

Sends forged VXLAN frames, one per VNI in [VNI_LO, VNI_HI], from SRC to DST (UDP port 4789 unless
PORT): each carries a broadcast ARP request from MAC (12 hex digits) claiming SENDER_IP and asking
for TARGET_IP. SRC may be any address (raw IP packets, so it can be spoofed); IPv4 or IPv6.
Used by the end-to-end tests to play an attacker on the underlay.
"""
import ipaddress
import socket
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(vni, mac, sender, target):
    eth = b"\xff" * 6 + mac + b"\x08\x06"
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + sender.packed + b"\0" * 6 + target.packed
    return struct.pack("!II", 0x08000000, vni << 8) + eth + arp


def main():
    src, dst = ipaddress.ip_address(sys.argv[1]), ipaddress.ip_address(sys.argv[2])
    lo, hi = int(sys.argv[3]), int(sys.argv[4])
    mac = bytes.fromhex(sys.argv[5])
    sender, target = ipaddress.ip_address(sys.argv[6]), ipaddress.ip_address(sys.argv[7])
    port = int(sys.argv[8]) if len(sys.argv) > 8 else 4789
    v6 = dst.version == 6
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for vni in range(lo, hi + 1):
        payload = frame(vni, mac, sender, target)
        length = 8 + len(payload)
        if v6:
            pseudo = src.packed + dst.packed + struct.pack("!I3xB", length, 17)
        else:
            pseudo = src.packed + dst.packed + struct.pack("!xBH", 17, length)
        udp = struct.pack("!HHHH", 40000 + vni % 1000, port, length, 0) + payload
        csum = checksum(pseudo + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
        if v6:
            hdr = struct.pack("!IHBB", 6 << 28, length, 17, 64) + src.packed + dst.packed
            s.sendto(hdr + udp, (str(dst), 0))
        else:
            hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0, 0, 64, 17, 0, src.packed,
                              dst.packed)
            s.sendto(hdr + udp, (str(dst), 0))
        sent += 1
    print(sent)


if __name__ == "__main__":
    main()
