"""A small DNS client over UDP, for what the benchmarks ask between measurements: is a server
answering yet, which addresses does it give for a name, what is its RCODE for a name that does
not exist, and which file does nolbd serve after a reload. Polling at 10 ms intervals (the
health benchmark's detection times) needs a query that costs no process start, which dig does.

Reads the answer and authority sections of A, AAAA, TXT, SOA, NS and CNAME records, following
compression pointers; anything else is kept as its type number and raw bytes.
"""

import random
import socket
import struct
from dataclasses import dataclass, field

TYPES = {'A': 1, 'NS': 2, 'CNAME': 5, 'SOA': 6, 'TXT': 16, 'AAAA': 28}
NAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED'}


@dataclass
class Response:
    rcode: str
    flags: int
    answer: list = field(default_factory=list)      # [(name, type, ttl, text)]
    authority: list = field(default_factory=list)

    def values(self, rtype):
        """The text of each answer record of that type, in the order received."""
        return [r[3] for r in self.answer if r[1] == rtype]


def encode_name(name):
    out = b''
    for label in name.rstrip('.').split('.'):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b'\0'


def build_query(name, rtype, qid=None, rd=False):
    qid = random.randint(0, 0xffff) if qid is None else qid
    flags = 0x0100 if rd else 0
    header = struct.pack('!HHHHHH', qid, flags, 1, 0, 0, 0)
    return qid, header + encode_name(name) + struct.pack('!HH', TYPES.get(rtype, rtype), 1)


def read_name(msg, pos):
    """(name, position after it), following compression pointers (at most 64 of them)."""
    labels, end, jumps = [], None, 0
    while True:
        if pos >= len(msg):
            raise ValueError('name runs past the message')
        length = msg[pos]
        if length & 0xc0 == 0xc0:
            if jumps > 64 or pos + 1 >= len(msg):
                raise ValueError('bad compression pointer')
            if end is None:
                end = pos + 2
            pos = ((length & 0x3f) << 8) | msg[pos + 1]
            jumps += 1
        elif length == 0:
            return '.'.join(labels) + '.', (end if end is not None else pos + 1)
        else:
            labels.append(msg[pos + 1:pos + 1 + length].decode('ascii', 'replace'))
            pos += 1 + length


def _rdata_text(msg, rtype, start, length):
    data = msg[start:start + length]
    if rtype == 1 and length == 4:
        return socket.inet_ntop(socket.AF_INET, data)
    if rtype == 28 and length == 16:
        return socket.inet_ntop(socket.AF_INET6, data)
    if rtype in (2, 5):
        return read_name(msg, start)[0]
    if rtype == 16:
        parts, i = [], 0
        while i < len(data):
            parts.append('"' + data[i + 1:i + 1 + data[i]].decode('ascii', 'replace') + '"')
            i += 1 + data[i]
        return ' '.join(parts)
    if rtype == 6:
        mname, pos = read_name(msg, start)
        rname, pos = read_name(msg, pos)
        serial, refresh, retry, expire, minimum = struct.unpack('!IIIII', msg[pos:pos + 20])
        return f'{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}'
    return data.hex()


def parse_response(msg):
    qid, flags, qd, an, ns, _ar = struct.unpack('!HHHHHH', msg[:12])
    pos = 12
    for _ in range(qd):
        _, pos = read_name(msg, pos)
        pos += 4
    sections = []
    for count in (an, ns):
        records = []
        for _ in range(count):
            name, pos = read_name(msg, pos)
            rtype, _cls, ttl, length = struct.unpack('!HHIH', msg[pos:pos + 10])
            pos += 10
            records.append((name, NAMES.get(rtype, rtype), ttl, _rdata_text(msg, rtype, pos, length)))
            pos += length
        sections.append(records)
    return qid, Response(RCODES.get(flags & 0xf, str(flags & 0xf)), flags, sections[0], sections[1])


def query(port, name, rtype='A', server='127.0.0.1', timeout=1.0, tries=1):
    """The server's response, or None when none came within the timeout (each try)."""
    for _ in range(tries):
        qid, packet = build_query(name, rtype)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            try:
                # Connected, so that a closed port fails at once (ICMP) instead of at the timeout.
                s.connect((server, port))
                s.send(packet)
                while True:
                    data = s.recv(65535)
                    got_id, response = parse_response(data)
                    if got_id == qid:
                        return response
            except (OSError, ValueError, struct.error):
                continue
    return None


def addresses(port, name, rtype='A', **kwargs):
    """The sorted addresses a server gives for a name (empty when none, or no answer)."""
    r = query(port, name, rtype, **kwargs)
    return sorted(r.values(rtype)) if r else []
