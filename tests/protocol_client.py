#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An independent client for tests/test_protocol_doc.c: what docs/protocol.md
says an outside developer must know, checked on the wire against the real
agent with Debian's python3-protobuf (the schema from the build's
FileDescriptorSet, as tests/utf8_client.py reads it).

Each check is a subcommand; it prints what it saw and exits 0 when the
document is right, 1 when it is not, 4 on a setup problem.

  empty      an untouched member serializes to nothing and is refused (BAD_FRAME);
             SetInParent() makes an empty Subscribe / StatusRequest that works;
             an unknown member is refused as BAD_FRAME
  deadline   no request: HANDSHAKE_TIMEOUT 5 s after the Hello
  toomany    over --max-listeners (2): an Error TOO_MANY_CLIENTS instead of Hello
  perm       (run as a user outside the meshmon group) PERMISSION_DENIED instead of Hello
  halfclose  after Subscribe and shutdown(SHUT_WR) the stream goes on; a real
             ARP exchange arrives with an empty src/dst, proto 0 and ethertype 0x0806
"""
import argparse
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
from meshmon_schema import FRAME_MAX, load_pool, message_class  # noqa: E402

BAD_FRAME, HANDSHAKE_TIMEOUT, TOO_MANY_CLIENTS, PERMISSION_DENIED = 1, 5, 6, 8
EVENT_TYPE_TRACE = 4


def classes(path):
    pool = load_pool(path)
    return message_class(pool, "ServerMessage"), message_class(pool, "ClientMessage")


class Conn:
    def __init__(self, path, server_cls):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.server_cls = server_cls

    def exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b

    def recv(self):
        (n,) = struct.unpack(">I", self.exact(4))
        if n > FRAME_MAX:
            raise ValueError("frame of %d bytes" % n)
        m = self.server_cls()
        m.ParseFromString(self.exact(n))
        return m

    def send_bytes(self, b):
        self.s.sendall(struct.pack(">I", len(b)) + b)


def expect(cond, what):
    print(("ok: " if cond else "WRONG: ") + what)
    return cond


def error_of(m):
    return (m.error.code, m.error.message) if m.WhichOneof("msg") == "error" else None


def check_empty(a, SM, CM):
    good = True
    cm = CM()
    cm.subscribe  # reading the member does not set it
    good &= expect(cm.SerializeToString() == b"", "an untouched Subscribe serializes to b''")
    c = Conn(a.socket, SM)
    good &= expect(c.recv().WhichOneof("msg") == "hello", "Hello first")
    c.send_bytes(cm.SerializeToString())
    e = error_of(c.recv())
    good &= expect(e is not None and e[0] == BAD_FRAME, "an empty payload gets BAD_FRAME: %r" % (e,))

    cm = CM()
    cm.subscribe.SetInParent()
    good &= expect(cm.SerializeToString() == b"\x0a\x00", "SetInParent: b'\\x0a\\x00'")
    c = Conn(a.socket, SM)
    c.recv()
    c.send_bytes(cm.SerializeToString())
    c.s.settimeout(1.0)
    try:
        m = c.recv()
        good &= expect(m.WhichOneof("msg") != "error", "an empty Subscribe is accepted: %s" % m)
    except socket.timeout:
        good &= expect(True, "an empty Subscribe is accepted (stream open, no Error)")

    cm = CM()
    cm.status_request.SetInParent()
    good &= expect(cm.SerializeToString() == b"\x12\x00", "StatusRequest: b'\\x12\\x00'")
    c = Conn(a.socket, SM)
    c.recv()
    c.send_bytes(cm.SerializeToString())
    good &= expect(c.recv().WhichOneof("msg") == "status", "a StatusRequest gets a Status")

    # Field 15, length 0: a member of some newer protocol.
    c = Conn(a.socket, SM)
    c.recv()
    c.send_bytes(b"\x7a\x00")
    e = error_of(c.recv())
    good &= expect(e is not None and e[0] == BAD_FRAME, "an unknown member gets BAD_FRAME: %r" % (e,))
    return good


def check_deadline(a, SM, CM):
    c = Conn(a.socket, SM)
    c.recv()
    t0 = time.monotonic()
    e = error_of(c.recv())
    dt = time.monotonic() - t0
    return expect(e is not None and e[0] == HANDSHAKE_TIMEOUT and 4.5 <= dt <= 6.0,
                  "HANDSHAKE_TIMEOUT after %.2f s: %r" % (dt, e))


def check_toomany(a, SM, CM):
    held = [Conn(a.socket, SM) for _ in range(2)]
    good = all(expect(h.recv().WhichOneof("msg") == "hello", "Hello within the cap") for h in held)
    c = Conn(a.socket, SM)
    e = error_of(c.recv())
    good &= expect(e is not None and e[0] == TOO_MANY_CLIENTS,
                   "over the cap, an Error instead of Hello: %r" % (e,))
    try:
        c.recv()
        good &= expect(False, "the connection is closed after it")
    except EOFError:
        good &= expect(True, "the connection is closed after it")
    return good


def check_perm(a, SM, CM):
    c = Conn(a.socket, SM)
    e = error_of(c.recv())
    return expect(e is not None and e[0] == PERMISSION_DENIED,
                  "not in the group: an Error instead of Hello: %r" % (e,))


def check_halfclose(a, SM, CM):
    c = Conn(a.socket, SM)
    c.recv()
    cm = CM()
    cm.subscribe.types.append(EVENT_TYPE_TRACE)
    c.send_bytes(cm.SerializeToString())
    time.sleep(0.3)
    c.s.shutdown(socket.SHUT_WR)
    time.sleep(0.3)
    subprocess.run("ip neigh flush dev %s; ping -c 1 -W 2 %s" % (a.iface, a.peer),
                   shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c.s.settimeout(3.0)
    arp = []
    try:
        while len(arp) < 2:
            m = c.recv()
            if m.WhichOneof("msg") == "event" and m.event.tuple.ethertype == 0x0806:
                arp.append(m.event)
    except socket.timeout:
        pass
    good = expect(len(arp) == 2, "after SHUT_WR the stream goes on: %d ARP traces" % len(arp))
    for e in arp:
        t = e.tuple
        good &= expect(t.src == b"" and t.dst == b"" and t.proto == 0 and t.sport == 0 and
                       t.dport == 0 and e.trace.parse_error == 8,
                       "non-IP tuple: src %r dst %r proto %d parse_error %d" %
                       (t.src, t.dst, t.proto, e.trace.parse_error))
    return good


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("check", choices=["empty", "deadline", "toomany", "perm", "halfclose"])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--descriptor", required=True)
    ap.add_argument("--iface", default="")
    ap.add_argument("--peer", default="10.199.0.2")
    a = ap.parse_args()
    try:
        SM, CM = classes(a.descriptor)
    except Exception as e:  # noqa: BLE001 - any setup failure
        print("setup: %s" % e)
        return 4
    check = globals()["check_" + a.check]
    try:
        return 0 if check(a, SM, CM) else 1
    except (OSError, EOFError, ValueError) as e:
        print("WRONG: %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
