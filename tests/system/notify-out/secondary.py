#!/usr/bin/python3
"""A secondary's end of NOTIFY (RFC 1996), enough for the test: listens on 127.0.0.1:PORT, writes
one line per message received ("id=... opcode=... aa=... qname=... qtype=... serial=..."), and
answers each with NOERROR unless --silent, echoing the ID and the question.

    secondary.py PORT LOG [--silent]
"""

import signal
import socket
import struct
import sys


def read_name(message, at):
    labels = []
    while True:
        length = message[at]
        if length == 0:
            return ".".join(labels) + ".", at + 1
        if length >= 0xC0:  # a pointer: not expected in a NOTIFY's first names
            raise ValueError("compressed name")
        labels.append(message[at + 1 : at + 1 + length].decode("ascii").lower())
        at += 1 + length


def describe(message):
    ident, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", message[:12])
    qname, at = read_name(message, 12)
    qtype, _qclass = struct.unpack("!HH", message[at : at + 4])
    question_end = at + 4
    serial = None
    if an >= 1:
        _owner, at = read_name(message, question_end)
        rtype, _rclass, _ttl, _rdlength = struct.unpack("!HHIH", message[at : at + 10])
        at += 10
        if rtype == 6:
            _mname, at = read_name(message, at)
            _rname, at = read_name(message, at)
            (serial,) = struct.unpack("!I", message[at : at + 4])
    fields = {
        "id": ident,
        "opcode": (flags >> 11) & 0xF,
        "aa": int(bool(flags & 0x0400)),
        "qr": int(bool(flags & 0x8000)),
        "qdcount": qd,
        "qname": qname,
        "qtype": qtype,
        "serial": serial,
    }
    return fields, message[:question_end]


def main():
    port, log = int(sys.argv[1]), sys.argv[2]
    silent = "--silent" in sys.argv[3:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    with open(log, "a", buffering=1) as out:
        out.write("listening\n")
        while True:
            message, sender = sock.recvfrom(65535)
            try:
                fields, head = describe(message)
            except (ValueError, IndexError, struct.error) as error:
                out.write(f"malformed {error}\n")
                continue
            out.write(" ".join(f"{k}={v}" for k, v in fields.items()) + "\n")
            if silent:
                continue
            answer = bytearray(head)
            struct.pack_into("!HHHHH", answer, 2, 0x8000 | 0x0400 | (4 << 11), 1, 0, 0, 0)
            sock.sendto(bytes(answer), sender)


if __name__ == "__main__":
    main()
