#!/usr/bin/env python3
"""clients.py - the two Python clients of the IMAP benchmark.

    clients.py raw|imaplib HOST PORT USER MAILBOX none|implicit [CAFILE]

Both do LOGIN, SELECT MAILBOX (EXAMINE for raw: read-only either way),
    UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)
and LOGOUT, then print "N messages, B bytes" to stderr.  The password
comes from $BENCH_PASSWORD.

raw      a socket drain: sends the commands as bytes and reads until the
         tagged completion, parsing nothing (counts "* N FETCH" starts);
         the limit any client can reach, the server's own time included
imaplib  Python's imaplib, the way a script would use it (the response
         list it returns, nothing decoded beyond that)
"""

import os
import socket
import ssl
import sys

ITEMS = "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"


def connect(host, port, tls, cafile):
    s = socket.create_connection((host, port), timeout=120)
    if tls == "implicit":
        ctx = ssl.create_default_context(cafile=cafile)
        s = ctx.wrap_socket(s, server_hostname=host)
    return s


def read_until_tag(s, tag, buf=b""):
    """Read until a line starting with tag; returns (bytes read, rest)."""
    marker = b"\r\n" + tag + b" "
    total = 0
    data = b"\r\n" + buf
    while True:
        i = data.find(marker)
        if i >= 0:
            j = data.find(b"\r\n", i + len(marker))
            if j >= 0:
                line = data[i + 2:j]
                if not line[len(tag) + 1:].startswith(b"OK"):
                    raise SystemExit("raw: %s" % line.decode(
                        errors="replace"))
                return total, data[j + 2:]
        chunk = s.recv(1 << 20)
        if not chunk:
            raise SystemExit("raw: connection closed waiting for %s" %
                             tag.decode())
        total += len(chunk)
        # keep only a tail big enough to hold the marker line's start
        data = data[-256:] + chunk


def raw(host, port, user, mailbox, tls, cafile, pw):
    s = connect(host, port, tls, cafile)
    rest = b""
    while b"\r\n" not in rest:
        rest += s.recv(4096)
    rest = rest.split(b"\r\n", 1)[1]

    def q(x):
        return '"%s"' % x.replace("\\", "\\\\").replace('"', '\\"')
    s.sendall(("r1 LOGIN %s %s\r\n" % (q(user), q(pw))).encode())
    _n, rest = read_until_tag(s, b"r1", rest)
    s.sendall(("r2 EXAMINE %s\r\n" % q(mailbox)).encode())
    _n, rest = read_until_tag(s, b"r2", rest)
    s.sendall(("r3 UID FETCH 1:* %s\r\n" % ITEMS).encode())
    n, rest = read_until_tag(s, b"r3", rest)
    s.sendall(b"r4 LOGOUT\r\n")
    try:
        read_until_tag(s, b"r4", rest)
    except SystemExit:
        pass
    s.close()
    sys.stderr.write("raw: %d bytes of FETCH responses\n" % n)


def imaplib_client(host, port, user, mailbox, tls, cafile, pw):
    import imaplib
    if tls == "implicit":
        ctx = ssl.create_default_context(cafile=cafile)
        m = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=120)
    else:
        m = imaplib.IMAP4(host, port, timeout=120)
    m.login(user, pw)
    typ, _ = m.select(mailbox, readonly=True)
    if typ != "OK":
        raise SystemExit("imaplib: SELECT failed")
    typ, data = m.uid("fetch", "1:*", ITEMS)
    if typ != "OK":
        raise SystemExit("imaplib: FETCH failed")
    n = sum(1 for d in data if isinstance(d, (bytes, tuple)))
    m.logout()
    sys.stderr.write("imaplib: %d FETCH items\n" % n)


def main(argv):
    if len(argv) < 7 or "BENCH_PASSWORD" not in os.environ:
        sys.stderr.write(__doc__)
        return 2
    kind, host, port, user, mailbox, tls = argv[1:7]
    cafile = argv[7] if len(argv) > 7 else None
    fn = {"raw": raw, "imaplib": imaplib_client}[kind]
    fn(host, int(port), user, mailbox, tls, cafile,
       os.environ["BENCH_PASSWORD"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
