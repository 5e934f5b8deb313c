#!/usr/bin/env python3
"""holders.py: who holds a VIP, on every host, at every instant (millisecond timestamps).

  holders.py watch --vip ADDR --out FILE [--stop FILE] [--ready FILE] [--interval-ms 5]
                   [--max-seconds S] HOST[=NETNS] ...
  holders.py analyze FILE [--from MS] [--to MS] [--event MS[:LABEL]]... [--json]
                   [--value doubles|double_ms|gap_ms|failover_ms|released_ms|holders_at_end|
                            samples|transitions]

watch: one rtnetlink socket per host, opened inside the host's network namespace (NETNS: a name
in /run/netns, or a path such as /proc/PID/ns/net; default: HOST), subscribed to the IPv4 and
IPv6 address groups (the events `ip monitor address` prints: exact transitions) and asked for a
dump of every address every INTERVAL ms (a poll, so nothing is missed). Events and dump answers
share the socket, so they are read in the kernel's order. A host holds the VIP while the address
is on any of its interfaces. The timeline (JSON lines, flushed per line, times in ms since the
epoch) has:
  {"k":"start", "t", "vip", "hosts", "interval_ms"}
  {"k":"ev", "t", "h", "op":"add"|"del", "ifindex", "label", "valid"}   an event for the VIP
  {"k":"st", "t", "h", "held", "via":"ev"|"poll"}                      a host's state changed
  {"k":"poll", "t0", "t1", "n", "holders"}   n rounds (every host sampled) with the same holders
                                             (written when they change, or after 200 ms)
  {"k":"late", "t", "ms"}                    a round came later than 4 intervals (a stalled machine)
  {"k":"stop", "t", "rounds"}
It stops on SIGTERM/SIGINT, when the stop file exists, when its parent dies, or after
--max-seconds (default 1800). With --ready it creates that file after the first round.

analyze: over [--from, --to] (default: the whole timeline), prints the sampling, the samples
and the time with two or more holders (with when), the gaps with no holder, and for each --event
the failover: the first instant after it at which a host that did not hold the VIP at the event
holds it, and when the event's holders let it go. --value prints one figure for scripts
(failover_ms and released_ms: of the first --event; "none" when it did not happen).
"""
import argparse
import ctypes
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_ROUTE = 0
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV6_IFADDR = 0x100
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_DUMP = 0x1, 0x2, 0x300
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_CACHEINFO = 1, 2, 3, 6
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
INFINITY_LIFE = 0xFFFFFFFF


def now_ms():
    return time.time_ns() / 1e6


def setns(fd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


class Host:
    """One host: its netlink socket (opened in its namespace) and what it holds."""

    def __init__(self, name, netns_path, vip):
        self.name = name
        self.vip = vip
        own = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open(netns_path, os.O_RDONLY)
        try:
            setns(target)
            try:
                self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            finally:
                setns(own)
        finally:
            os.close(target)
            os.close(own)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
        self.sock.setblocking(False)
        self.portid = self.sock.getsockname()[0]
        self.seq = 0
        self.dumping = False
        self.dump_keys = set()
        self.dump_tainted = False
        self.keys = set()  # (ifindex,) keys where the VIP is
        self.polled = False

    def request_dump(self):
        self.seq += 1
        msg = struct.pack("=LHHLL", 16 + 8, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, self.seq, 0)
        msg += struct.pack("=BBBBI", 0, 0, 0, 0, 0)
        self.dumping = True
        self.dump_keys = set()
        self.dump_tainted = False
        self.sock.send(msg)

    def parse_addr(self, body):
        family, _plen, _flags, _scope, index = struct.unpack_from("=BBBBI", body, 0)
        off, attrs = 8, {}
        while off + 4 <= len(body):
            alen, atype = struct.unpack_from("=HH", body, off)
            if alen < 4:
                break
            attrs[atype] = body[off + 4:off + alen]
            off += (alen + 3) & ~3
        raw = attrs.get(IFA_LOCAL) if family == socket.AF_INET else None
        raw = raw or attrs.get(IFA_ADDRESS)
        if raw is None:
            return None
        try:
            addr = ipaddress.ip_address(raw)
        except ValueError:
            return None
        if addr != self.vip:
            return None
        label = attrs.get(IFA_LABEL, b"").rstrip(b"\0").decode(errors="replace") or None
        valid = None
        if IFA_CACHEINFO in attrs and len(attrs[IFA_CACHEINFO]) >= 8:
            _pref, valid = struct.unpack_from("=II", attrs[IFA_CACHEINFO], 0)
            if valid == INFINITY_LIFE:
                valid = "forever"
        return index, label, valid

    def read(self, out, t):
        """Reads everything queued, stamped t; calls out(kind, fields) for events and changes."""
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError as e:  # ENOBUFS: events lost; the next dump repairs the state
                out("note", {"h": self.name, "error": str(e)})
                self.dump_tainted = True
                continue
            off = 0
            while off + 16 <= len(data):
                mlen, mtype, mflags, mseq, mpid = struct.unpack_from("=LHHLL", data, off)
                if mlen < 16:
                    break
                body = data[off + 16:off + mlen]
                off += (mlen + 3) & ~3
                if mpid == self.portid and mpid != 0:  # our own dump's answers
                    if not (self.dumping and mseq == self.seq):
                        continue  # a dump given up on
                    mine = True
                else:
                    mine = False
                if mine and mtype == NLMSG_DONE:
                    self.dumping = False
                    if not self.dump_tainted:
                        self.set_keys(set(self.dump_keys), t, "poll", out)
                    self.polled = True
                elif mine and mtype == NLMSG_ERROR:
                    self.dumping = False
                elif mine:
                    if mtype == RTM_NEWADDR and mflags & NLM_F_MULTI:
                        hit = self.parse_addr(body)
                        if hit:
                            self.dump_keys.add(hit[0])
                elif mtype in (RTM_NEWADDR, RTM_DELADDR):
                    hit = self.parse_addr(body)
                    if not hit:
                        continue
                    index, label, valid = hit
                    op = "add" if mtype == RTM_NEWADDR else "del"
                    out("ev", {"t": t, "h": self.name, "op": op, "ifindex": index, "label": label,
                               "valid": valid})
                    if self.dumping:
                        self.dump_tainted = True  # the dump may predate this event
                    keys = set(self.keys)
                    if op == "add":
                        keys.add(index)
                    else:
                        keys.discard(index)
                    self.set_keys(keys, t, "ev", out)

    def set_keys(self, keys, t, via, out):
        held_before = bool(self.keys)
        self.keys = keys
        if bool(keys) != held_before:
            out("st", {"t": t, "h": self.name, "held": bool(keys), "via": via})

    @property
    def held(self):
        return bool(self.keys)


def watch(args):
    vip = ipaddress.ip_address(args.vip)
    stop = {"now": False}

    def on_signal(_sig, _frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass
    parent = os.getppid()
    hosts = []
    for spec in args.hosts:
        name, _, ns = spec.partition("=")
        ns = ns or name
        path = ns if "/" in ns else "/run/netns/" + ns
        hosts.append(Host(name, path, vip))
    out_file = open(args.out, "a", buffering=1)

    def out(kind, fields):
        rec = {"k": kind}
        rec.update(fields)
        out_file.write(json.dumps(rec, separators=(",", ":")) + "\n")

    interval = args.interval_ms / 1000.0
    out("start", {"t": now_ms(), "vip": str(vip), "hosts": [h.name for h in hosts],
                  "interval_ms": args.interval_ms})
    run = None  # [t0, t1, n, holders]
    rounds = 0
    deadline = time.monotonic() + args.max_seconds
    next_round = time.monotonic()
    by_fd = {h.sock.fileno(): h for h in hosts}

    # Everything queued on any host when a read starts gets that one time stamp: sockets are read
    # one after the other, and a later stamp on the second would invent an overlap (or a gap) of
    # two changes the kernels made in the other order.
    def drain(t):
        for h in hosts:
            h.read(out, t)
    last_round_t = None
    while not stop["now"]:
        mono = time.monotonic()
        if mono >= deadline or os.getppid() != parent:
            break
        if args.stop and os.path.exists(args.stop):
            break
        if mono >= next_round:
            # One round: ask every host for a dump, then read until every answer is in.
            for h in hosts:
                h.request_dump()
            limit = time.monotonic() + 1.0
            while any(h.dumping for h in hosts) and time.monotonic() < limit:
                select.select(list(by_fd), [], [], 0.05)
                drain(now_ms())
            t = now_ms()
            for h in hosts:
                h.dumping = False
            if last_round_t is not None and t - last_round_t > 4 * args.interval_ms:
                out("late", {"t": t, "ms": round(t - last_round_t, 3)})
            last_round_t = t
            rounds += 1
            holders = [h.name for h in hosts if h.held]
            if run and run[3] == holders and t - run[0] < 200:
                run[1], run[2] = t, run[2] + 1
            else:
                if run:
                    out("poll", {"t0": run[0], "t1": run[1], "n": run[2], "holders": run[3]})
                run = [t, t, 1, holders]
            if rounds == 1 and args.ready:
                open(args.ready, "w").close()
            next_round += interval
            if next_round < time.monotonic():
                next_round = time.monotonic() + interval
        wait = max(0.0, next_round - time.monotonic())
        ready, _, _ = select.select(list(by_fd), [], [], wait)
        if ready:
            drain(now_ms())
    if run:
        out("poll", {"t0": run[0], "t1": run[1], "n": run[2], "holders": run[3]})
    out("stop", {"t": now_ms(), "rounds": rounds})
    out_file.close()
    return 0


# ---------------------------------------------------------------------------- analysis

def load(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                recs.append(json.loads(line))
            except ValueError:
                pass  # a line being written
    return recs


def intervals(recs, hosts, lo, hi):
    """[(t0, t1, holders)] over [lo, hi], from the state changes (exact: events and polls)."""
    state = {h: False for h in hosts}
    changes = sorted((r for r in recs if r["k"] == "st"), key=lambda r: r["t"])
    out, t_prev = [], lo
    for r in changes:
        if r["t"] > hi:
            break
        if r["t"] > lo and r["t"] > t_prev:
            out.append((t_prev, r["t"], sorted(h for h in hosts if state[h])))
            t_prev = r["t"]
        state[r["h"]] = r["held"]
    if hi > t_prev:
        out.append((t_prev, hi, sorted(h for h in hosts if state[h])))
    return out


def holders_at(recs, hosts, t):
    state = {h: False for h in hosts}
    for r in sorted((r for r in recs if r["k"] == "st"), key=lambda r: r["t"]):
        if r["t"] > t:
            break
        state[r["h"]] = r["held"]
    return sorted(h for h in hosts if state[h])


def analyze(args):
    recs = load(args.file)
    start = next((r for r in recs if r["k"] == "start"), None)
    if start is None:
        print("holders.py: no start record in " + args.file, file=sys.stderr)
        return 2
    hosts = start["hosts"]
    end_t = max([r.get("t", r.get("t1", 0)) for r in recs])
    lo = args.from_ms if args.from_ms is not None else start["t"]
    hi = args.to_ms if args.to_ms is not None else end_t
    hi = min(hi, end_t)
    res = {"vip": start["vip"], "hosts": hosts, "from": lo, "to": hi, "window_ms": round(hi - lo, 1)}

    # Samples: poll rounds inside the window (a run is spread evenly over its span).
    samples = doubles = 0
    double_runs = []
    for r in recs:
        if r["k"] != "poll" or r["t1"] < lo or r["t0"] > hi:
            continue
        n = r["n"]
        if n > 1 and (r["t0"] < lo or r["t1"] > hi):
            step = (r["t1"] - r["t0"]) / (n - 1)
            first = max(0, int((lo - r["t0"]) / step + 0.999999)) if r["t0"] < lo else 0
            last = min(n - 1, int((hi - r["t0"]) / step)) if r["t1"] > hi else n - 1
            n = max(0, last - first + 1)
        samples += n
        if len(r["holders"]) >= 2 and n:
            doubles += n
            last = double_runs[-1] if double_runs else None
            if last and last[3] == r["holders"] and r["t0"] - last[1] <= 4 * start["interval_ms"]:
                double_runs[-1] = (last[0], min(r["t1"], hi), last[2] + n, last[3])
            else:
                double_runs.append((max(r["t0"], lo), min(r["t1"], hi), n, r["holders"]))
    lates = [r for r in recs if r["k"] == "late" and lo <= r["t"] <= hi]
    res.update({"samples": samples, "double_samples": doubles,
                "double_sample_runs": [{"t0": a, "t1": b, "n": n, "holders": h}
                                       for a, b, n, h in double_runs],
                "late_rounds": len(lates),
                "max_round_gap_ms": max([r["ms"] for r in lates], default=None)})

    spans = intervals(recs, hosts, lo, hi)
    dbl = [(a, b, h) for a, b, h in spans if len(h) >= 2]
    res["double_ms"] = round(sum(b - a for a, b, _ in dbl), 1)
    res["double_intervals"] = [{"t0": a, "t1": b, "ms": round(b - a, 1), "holders": h}
                               for a, b, h in dbl]
    first_hold = next((a for a, _, h in spans if h), None)
    gaps = [(a, b) for a, b, h in spans if not h and first_hold is not None and a >= first_hold]
    # Merge adjacent empty spans.
    merged = []
    for a, b in gaps:
        if merged and abs(merged[-1][1] - a) < 1e-9:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    res["gaps"] = [{"t0": a, "t1": b, "ms": round(b - a, 1)} for a, b in merged]
    res["gap_ms"] = round(sum(b - a for a, b in merged), 1)
    res["holders_at_end"] = holders_at(recs, hosts, hi)
    res["transitions"] = sum(1 for r in recs if r["k"] == "st" and lo <= r["t"] <= hi)

    changes = sorted((r for r in recs if r["k"] == "st"), key=lambda r: r["t"])
    res["events"] = []
    for ev in args.event:
        t_s, _, label = ev.partition(":")
        t = float(t_s)
        before = holders_at(recs, hosts, t)
        nxt = next((r for r in changes if r["t"] >= t and r["held"] and r["h"] not in before),
                   None)
        rel = {}
        for h in before:
            r = next((r for r in changes if r["t"] >= t and r["h"] == h and not r["held"]), None)
            rel[h] = round(r["t"] - t, 1) if r else None
        res["events"].append({
            "t": t, "label": label, "holders_before": before,
            "next_holder": nxt["h"] if nxt else None,
            "failover_ms": round(nxt["t"] - t, 1) if nxt else None,
            "released_ms": rel})

    if args.value:
        v = args.value
        if v in ("failover_ms", "released_ms"):
            e = res["events"][0] if res["events"] else {}
            if v == "failover_ms":
                val = e.get("failover_ms")
            else:
                vals = list(e.get("released_ms", {}).values())
                val = None if not vals or None in vals else max(vals)
        elif v == "holders_at_end":
            val = ",".join(res["holders_at_end"])
        elif v == "doubles":
            val = res["double_samples"]
        else:
            val = res.get(v)
        if val is None:
            print("none")
        elif isinstance(val, float):
            print("%d" % round(val))
        else:
            print(val)
        return 0
    if args.json:
        print(json.dumps(res, indent=1))
        return 0

    def rel(t):
        return "+%.0f ms" % (t - lo)

    print("VIP %s on %s; window %.0f ms from %.0f" % (res["vip"], ",".join(hosts),
                                                     res["window_ms"], lo))
    gap_note = ("; %d round(s) late, worst %.0f ms apart" % (len(lates), res["max_round_gap_ms"])
                if lates else "")
    print("samples: %d (every host, every %s ms)%s" % (samples, start["interval_ms"], gap_note))
    print("samples with two or more holders: %d" % doubles)
    for a, b, n, h in double_runs:
        print("  %s to %s: %d samples, held by %s" % (rel(a), rel(b), n, ",".join(h)))
    print("time with two or more holders: %.1f ms" % res["double_ms"])
    for d in res["double_intervals"]:
        print("  %s for %.1f ms: %s" % (rel(d["t0"]), d["ms"], ",".join(d["holders"])))
    print("gaps with no holder: %d, %.1f ms in all" % (len(merged), res["gap_ms"]))
    for a, b in merged:
        print("  %s for %.1f ms" % (rel(a), b - a))
    for e in res["events"]:
        name = " (%s)" % e["label"] if e["label"] else ""
        if e["failover_ms"] is None:
            print("event %s%s: held by %s; no other host took it" % (
                rel(e["t"]), name, ",".join(e["holders_before"]) or "nobody"))
        else:
            print("event %s%s: %s -> %s after %.1f ms" % (
                rel(e["t"]), name, ",".join(e["holders_before"]) or "nobody", e["next_holder"],
                e["failover_ms"]))
        for h, ms in e["released_ms"].items():
            print("  %s let it go %s" % (h, "after %.1f ms" % ms if ms is not None else "never"))
    print("transitions: %d; held at the end by: %s" % (
        res["transitions"], ",".join(res["holders_at_end"]) or "nobody"))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("watch")
    w.add_argument("--vip", required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--stop")
    w.add_argument("--ready")
    w.add_argument("--interval-ms", type=float, default=5.0)
    w.add_argument("--max-seconds", type=float, default=1800.0)
    w.add_argument("hosts", nargs="+", metavar="HOST[=NETNS]")
    a = sub.add_parser("analyze")
    a.add_argument("file")
    a.add_argument("--from", dest="from_ms", type=float)
    a.add_argument("--to", dest="to_ms", type=float)
    a.add_argument("--event", action="append", default=[], metavar="MS[:LABEL]")
    a.add_argument("--json", action="store_true")
    a.add_argument("--value", choices=["doubles", "double_ms", "gap_ms", "failover_ms",
                                       "released_ms", "holders_at_end", "samples", "transitions"])
    args = p.parse_args()
    return watch(args) if args.cmd == "watch" else analyze(args)


if __name__ == "__main__":
    sys.exit(main())
