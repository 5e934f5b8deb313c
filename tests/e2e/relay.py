#!/usr/bin/env python3
"""A TCP relay for the enrolment test: an on-path attacker between the controller and a node.

    relay.py LISTEN_ADDR LISTEN_PORT FIRST_ADDR:PORT LATER_ADDR:PORT

The first connection goes to FIRST (the real host); every later one to LATER (an impostor).
Prints "listening" once bound, then one line per connection ("connection N -> ADDR:PORT").
Runs until killed.
"""
import socket
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def target(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def main():
    listen = (sys.argv[1], int(sys.argv[2]))
    first, later = target(sys.argv[3]), target(sys.argv[4])
    server = socket.create_server(listen)
    print("listening", flush=True)
    n = 0
    while True:
        client, _ = server.accept()
        n += 1
        dest = first if n == 1 else later
        print(f"connection {n} -> {dest[0]}:{dest[1]}", flush=True)
        try:
            upstream = socket.create_connection(dest, timeout=5)
        except OSError:
            client.close()
            continue
        upstream.settimeout(None)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    main()
