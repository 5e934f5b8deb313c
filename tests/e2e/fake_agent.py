#!/usr/bin/env python3
"""A stand-in for `vpcctl agent` that answers every request with what PROGRAM prints, for the
hostile-node test: `fake_agent.py SOCKET PROGRAM`. A status request runs `PROGRAM status --local
--json`, an apply `PROGRAM apply --local --json`; the answer carries the program's exit code, stdout
and stderr (each cut at 8 MiB, bytes carried as Latin-1 characters), as the real agent's does."""
import json
import os
import socket
import subprocess
import sys
import tempfile

CAP = 8 << 20


def read_capped(stream):
    data = stream.read(CAP)
    return data.decode("latin-1")


def main():
    path, program = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen(16)
    while True:
        conn, _ = server.accept()
        data = b""
        while b"\n" not in data and len(data) < 65536:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        try:
            req = json.loads(data.split(b"\n")[0] or b"{}")
        except ValueError:
            req = {}
        args = ["status", "--local", "--json"]
        if req.get("op") == "apply":
            args = ["apply", "--local", "--json"]
        with tempfile.TemporaryFile() as errfile:
            proc = subprocess.Popen([program] + args, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=errfile)
            out = read_capped(proc.stdout)
            proc.kill()
            code = proc.wait()
            errfile.seek(0)
            err = read_capped(errfile)
        answer = json.dumps({"exit": max(code, 0), "out": out, "err": err}) + "\n"
        try:
            conn.sendall(answer.encode())
        except OSError:
            pass
        conn.close()


main()
