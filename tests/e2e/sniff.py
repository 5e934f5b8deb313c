#!/usr/bin/env python3
"""sniff.py IFACE MARKER_HEX SECONDS: counts frames received on IFACE whose bytes contain MARKER.

Prints the count. Used by the end-to-end tests to prove that a broadcast reaches each node a
bounded number of times (no loop) and that nothing crosses from one VPC to another.
"""
import socket
import sys
import time

iface, marker, seconds = sys.argv[1], bytes.fromhex(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
s.bind((iface, 0))
s.settimeout(0.1)
print("ready", file=sys.stderr, flush=True)
count = 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        frame, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    if marker in frame:
        count += 1
print(count)
