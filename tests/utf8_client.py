#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An independent meshmon client for tests/test_agent_utf8.c.

Written from docs/protocol.md alone with Debian's python3-protobuf, which,
unlike protobuf-c, refuses a whole message whose proto3 `string` holds invalid
UTF-8: exactly what a Python, Go or Java client of the agent would do. The
schema comes as a FileDescriptorSet that protoc-c wrote at build time
(tests/meson.build), so no generated code is committed or needed.

It connects, takes the Hello, subscribes to tcp_probe events, prints READY,
then parses every frame until it sees a report of --pid and checks that report:
`comm` is the Unicode replacement of the raw bytes (maximal subparts, as
Python's errors="replace" does) and `comm_raw` is exactly --raw.

Exit: 0 report found and right; 1 report found and wrong; 2 no report before
--timeout or EOF; 3 a message did not parse (the bug this test guards
against); 4 setup (descriptor, socket, protocol).
"""
import argparse
import select
import socket
import struct
import sys
import time

from google.protobuf.internal import api_implementation

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
from meshmon_schema import FRAME_MAX, load_pool, message_class  # noqa: E402


def message_classes(path):
    pool = load_pool(path)
    return tuple(message_class(pool, n) for n in ("ServerMessage", "ClientMessage", "TcpProbe")) + (
        pool,
    )


def rejects_invalid_utf8(tcp_probe_cls):
    """Whether this protobuf refuses a string field of invalid UTF-8 (comm = 6).

    Debian 12's python3-protobuf does, in both its cpp and pure-Python
    implementations, so ParseFromString is the UTF-8 check of this client.
    An implementation that did not would make the test prove nothing: main()
    then fails rather than pass.
    """
    try:
        tcp_probe_cls().ParseFromString(b"\x32\x02\xff\xfe")
    except Exception:  # DecodeError (cpp, upb) or UnicodeDecodeError (python)
        return True
    return False


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def frame(self, deadline):
        """The next payload, or None at EOF or the deadline."""
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if n > FRAME_MAX:
                    raise ValueError("frame of %d bytes" % n)
                if len(self.buf) >= 4 + n:
                    payload, self.buf = self.buf[4 : 4 + n], self.buf[4 + n :]
                    return payload
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def send(self, msg):
        b = msg.SerializeToString()
        self.s.sendall(struct.pack(">I", len(b)) + b)


def parse(server_cls, payload):
    m = server_cls()
    try:
        m.ParseFromString(payload)  # refuses invalid UTF-8 in any string field
    except Exception as e:
        print("DECODE_ERROR %s: %s (frame %s)" % (type(e).__name__, e, payload.hex()))
        sys.exit(3)
    return m


def check_report(p, raw):
    want = raw.decode("utf-8", errors="replace")
    print("REPORT pid=%d state=%d comm=%r comm_raw=%s" % (p.pid, p.state, p.comm, p.comm_raw.hex()))
    ok = p.comm_raw == raw and p.comm == want and "\ufffd" in p.comm
    if not ok:
        print("WRONG want comm=%r comm_raw=%s" % (want, raw.hex()))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--descriptor", required=True)
    ap.add_argument("--pid", type=int, required=True, help="the process whose report to check")
    ap.add_argument("--raw", required=True, help="its comm's raw bytes, hex")
    ap.add_argument("--timeout", type=float, default=20)
    a = ap.parse_args()
    try:
        server_cls, client_cls, probe_cls, pool = message_classes(a.descriptor)
        tcp_probe = pool.FindEnumTypeByName("meshmon.v1.EventType").values_by_name[
            "EVENT_TYPE_TCP_PROBE"
        ].number
        # libprotobuf may log the refusal on stderr: that line is expected.
        print("SELF-CHECK parse a TcpProbe whose comm is ff fe", flush=True)
        enforced = rejects_invalid_utf8(probe_cls)
        print("IMPL %s rejects-invalid-utf8=%s" % (api_implementation.Type(), enforced))
        if not enforced:
            return 4
        c = Conn(a.socket)
    except Exception as e:
        print("SETUP %s: %s" % (type(e).__name__, e))
        return 4
    deadline = time.monotonic() + a.timeout
    payload = c.frame(deadline)
    if payload is None or parse(server_cls, payload).WhichOneof("msg") != "hello":
        print("SETUP no Hello")
        return 4
    sub = client_cls()
    sub.subscribe.types.append(tcp_probe)
    c.send(sub)
    print("READY", flush=True)
    raw, frames = bytes.fromhex(a.raw), 0
    while True:
        payload = c.frame(deadline)
        if payload is None:
            print("NOT_FOUND after %d frames" % frames)
            return 2
        frames += 1
        m = parse(server_cls, payload)
        kind = m.WhichOneof("msg")
        if kind == "error":
            print("ERROR %d %s" % (m.error.code, m.error.message))
            return 4
        if kind == "event" and m.event.WhichOneof("detail") == "tcp_probe":
            if m.event.tcp_probe.pid == a.pid:
                return 0 if check_report(m.event.tcp_probe, raw) else 1


if __name__ == "__main__":
    sys.exit(main())
