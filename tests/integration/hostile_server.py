#!/usr/bin/env python3
"""hostile_server.py - a scripted fake IMAP server on 127.0.0.1 that tries
to fool or exhaust a client.  It records every line the client sends,
tagged with the phase it arrived in ("plain" before any TLS, "tls" after),
so a test can assert that no LOGIN/AUTHENTICATE crossed in plaintext.

Scenarios (by name):
  starttls-injection  offers STARTTLS; its "OK Begin TLS" arrives in one
                      packet with injected responses (a capability list
                      without STARTTLS, a tagged OK for the next tags, an
                      untagged LIST "INJECTED") before the handshake;
                      after the handshake it behaves (LIST gives INBOX)
  starttls-refused    offers STARTTLS, answers it with NO
  starttls-bad        offers STARTTLS, answers it with BAD
  no-starttls         capabilities without STARTTLS (AUTH=PLAIN offered)
  preauth-plaintext   "* PREAUTH" greeting on plain TCP
  huge-literal        after login, the first LIST/SELECT/FETCH/... gets
                      "* 1 FETCH (UID 1 BODY[] {5000000000}" then bytes
                      trickling slowly (never the whole literal)
  seqset-bomb         after login, every LIST/SELECT/SEARCH/FETCH... gets
                      "* ESEARCH ... ALL 1:4294967295", "* VANISHED
                      (EARLIER) 1:4294967295", "* SEARCH 1 2 ... 100000",
                      an ESEARCH ALL of 100000 separate numbers and
                      "* 4294967295 EXISTS" before a normal answer;
                      SELECT/EXAMINE say 4294967295 EXISTS
  disconnect-mid-literal
                      after login: "* 1 FETCH (UID 1 BODY[] {20000}" and
                      10000 bytes, then closes
  garbage             random (seeded) bytes instead of a greeting
  bye-greeting        "* BYE" greeting, then closes
  wrong-host-cert     implicit TLS with a CA-signed cert for wrong.invalid
  self-signed-cert    implicit TLS with a self-signed cert for 127.0.0.1
  good                a well-behaved minimal server (plain, STARTTLS
                      offered; --implicit for TLS from the start)

The minimal server part answers CAPABILITY, NOOP, ID, ENABLE, NAMESPACE,
LOGIN, AUTHENTICATE PLAIN (with or without SASL-IR), LIST/LSUB (one INBOX),
STATUS, SELECT/EXAMINE (empty), LOGOUT, and BAD for the rest.

CLI:  hostile_server.py SCENARIO [--certs DIR] [--record FILE]
                          [--implicit] [--timeout SECS]
prints {"host", "port", "scenario", "ca"} on one line, serves until
SIGTERM/SIGINT or --timeout (600 s); each client line is appended to FILE
as JSON
{"conn": n, "phase": "plain"|"tls", "line": "..."}.
Import: HostileServer(scenario, certs).start() -> .port, .lines(), .stop().
"""

import json
import os
import random
import re
import signal
import socket
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"
CAPS = "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE NAMESPACE"
SCENARIOS = ("starttls-injection", "starttls-refused", "starttls-bad",
             "no-starttls", "preauth-plaintext", "huge-literal",
             "seqset-bomb", "disconnect-mid-literal", "garbage",
             "bye-greeting", "wrong-host-cert", "self-signed-cert", "good")
# commands that trigger a post-login payload
DATA_CMDS = ("LIST", "LSUB", "SELECT", "EXAMINE", "FETCH", "UID", "SEARCH",
             "STATUS")
IDLE_LIMIT = 30.0	# a connection left silent this long is dropped


class Closed(Exception):
    pass


def certs_in(d):
    """The harness's certificates in d (made there if missing)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dovecot
    if not os.path.exists(os.path.join(d, "self-signed.crt")):
        dovecot.make_certs(d)
    c = {"ca": os.path.join(d, "ca.crt")}
    for n, k in (("server", "server"), ("wrong-host", "wrong_host"),
                 ("self-signed", "self_signed")):
        c[k + "_cert"] = os.path.join(d, n + ".crt")
        c[k + "_key"] = os.path.join(d, n + ".key")
    return c


class Conn:
    def __init__(self, server, sock, num):
        self.srv = server
        self.sock = sock
        self.num = num
        self.phase = "plain"
        self.buf = b""
        self.authed = False
        self.payload_sent = False
        sock.settimeout(IDLE_LIMIT)

    # ---- I/O ----
    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def readline(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except (OSError, ssl.SSLError):
                raise Closed()
            if not chunk:
                raise Closed()
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.rstrip(b"\r")
        self.srv.record(self.num, self.phase, line)
        return line

    def read_literal_args(self, line):
        # a client literal {n} or {n+}: read its bytes, join them in
        while line.endswith(b"}") and b"{" in line:
            head, _, size = line.rpartition(b"{")
            size = size[:-1]
            plus = size.endswith(b"+")
            try:
                n = int(size.rstrip(b"+"))
            except ValueError:
                return line
            if not plus:
                self.send("+ go ahead\r\n")
            while len(self.buf) < n:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise Closed()
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n:]
            self.srv.record(self.num, self.phase, b"<literal>" + data)
            rest = self.readline()
            line = head + b'"' + data + b'"' + rest
        return line

    def starttls(self, cert, key):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.phase = "tls"
        self.buf = b""

    # ---- the scripted server ----
    def run(self):
        sc = self.srv.scenario
        c = self.srv.certs
        try:
            if sc in ("wrong-host-cert", "self-signed-cert") or \
                    self.srv.implicit:
                k = {"wrong-host-cert": "wrong_host",
                     "self-signed-cert": "self_signed"}.get(sc, "server")
                try:
                    self.starttls(c[k + "_cert"], c[k + "_key"])
                except (OSError, ssl.SSLError):
                    return
            if sc == "garbage":
                rnd = random.Random(4)
                for _ in range(20):
                    self.send(bytes(rnd.randrange(256) for _ in range(512)))
                    time.sleep(0.02)
                return
            if sc == "bye-greeting":
                self.send("* BYE [UNAVAILABLE] too many connections, "
                          "try later\r\n")
                return
            if sc == "preauth-plaintext":
                self.authed = True
                self.send("* PREAUTH [CAPABILITY %s] logged in as alice"
                          "\r\n" % CAPS)
            else:
                self.send("* OK [CAPABILITY %s] hostile server ready\r\n"
                          % self.caps())
            while True:
                line = self.readline()
                line = self.read_literal_args(line)
                if not self.command(line):
                    return
        except Closed:
            return
        except (OSError, ssl.SSLError):
            return
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def caps(self):
        sc = self.srv.scenario
        starttls = self.phase == "plain" and sc in (
            "starttls-injection", "starttls-refused", "starttls-bad", "good")
        return CAPS + (" STARTTLS" if starttls else "") + (
            "" if self.authed else " AUTH=PLAIN")

    def command(self, line):
        """Answer one command; False to close."""
        parts = line.split(b" ", 2)
        if len(parts) < 2:
            self.send("* BAD no tag\r\n")
            return True
        tag = parts[0].decode(errors="replace")
        cmd = parts[1].upper().decode(errors="replace")
        args = parts[2] if len(parts) > 2 else b""
        sc = self.srv.scenario
        if cmd == "CAPABILITY":
            self.send("* CAPABILITY %s\r\n%s OK done\r\n" % (self.caps(),
                                                            tag))
        elif cmd == "STARTTLS":
            return self.cmd_starttls(tag)
        elif cmd == "LOGIN":
            self.authed = True
            self.send("%s OK [CAPABILITY %s] logged in\r\n" % (tag, CAPS))
        elif cmd == "AUTHENTICATE":
            if b" " not in args:
                self.send("+ \r\n")
                self.readline()
            self.authed = True
            self.send("%s OK [CAPABILITY %s] logged in\r\n" % (tag, CAPS))
        elif cmd == "LOGOUT":
            self.send("* BYE bye\r\n%s OK done\r\n" % tag)
            return False
        elif cmd in ("NOOP", "CHECK", "ENABLE", "UNSELECT", "CLOSE"):
            self.send("%s OK done\r\n" % tag)
        elif cmd == "ID":
            self.send('* ID ("name" "hostile")\r\n%s OK done\r\n' % tag)
        elif cmd == "NAMESPACE":
            self.send('* NAMESPACE (("" "/")) NIL NIL\r\n%s OK done\r\n'
                      % tag)
        elif cmd in DATA_CMDS:
            if not self.authed:
                self.send("%s BAD log in first\r\n" % tag)
                return True
            # the bomb comes with every command; the others once
            if sc == "seqset-bomb" or (sc in (
                    "huge-literal", "disconnect-mid-literal") and
                    not self.payload_sent):
                self.payload_sent = True
                if not self.payload(tag):
                    return False
            self.answer(tag, cmd, args)
        else:
            self.send("%s BAD unknown command\r\n" % tag)
        return True

    def cmd_starttls(self, tag):
        sc = self.srv.scenario
        if sc == "starttls-refused":
            self.send("%s NO [UNAVAILABLE] TLS not available today\r\n"
                      % tag)
            return True
        if sc == "starttls-bad":
            self.send("%s BAD STARTTLS unknown\r\n" % tag)
            return True
        if self.phase != "plain" or "STARTTLS" not in self.caps():
            self.send("%s BAD not now\r\n" % tag)
            return True
        resp = "%s OK Begin TLS negotiation now\r\n" % tag
        if sc == "starttls-injection":
            # CVE-2021-22946/CVE-2020-14954 style: responses for commands
            # the client has not sent yet, in the same packet.
            m = re.match(r"(.*?)(\d+)$", tag)
            prefix, n = (m.group(1), int(m.group(2))) if m else ("a", 1)
            inj = ["* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected",
                   '* LIST () "/" INJECTED']
            for t in range(n + 1, n + 6):
                inj.append('%s%d OK [CAPABILITY IMAP4rev1] injected' %
                           (prefix, t))
            inj.append("a1 OK injected")
            resp += "\r\n".join(inj) + "\r\n"
        self.send(resp)
        try:
            self.starttls(self.srv.certs["server_cert"],
                          self.srv.certs["server_key"])
        except (OSError, ssl.SSLError):
            return False
        return True

    def payload(self, tag):
        sc = self.srv.scenario
        if sc == "huge-literal":
            self.send("* 1 FETCH (UID 1 BODY[] {5000000000}\r\n")
            # slow bytes: 64 KiB every 50 ms until the client leaves or
            # 60 s pass; the client must give up on the size alone
            end = time.monotonic() + 60
            chunk = b"x" * 65536
            while time.monotonic() < end:
                self.send(chunk)
                time.sleep(0.05)
            return False
        if sc == "disconnect-mid-literal":
            self.send(b"* 1 FETCH (UID 1 BODY[] {20000}\r\n" + b"y" * 10000)
            time.sleep(0.1)
            return False
        if sc == "seqset-bomb":
            out = ['* ESEARCH (TAG "%s") UID ALL 1:4294967295' % tag,
                   "* VANISHED (EARLIER) 1:4294967295",
                   "* SEARCH " + " ".join(str(i)
                                          for i in range(1, 100001)),
                   '* ESEARCH (TAG "%s") UID ALL ' % tag +
                   ",".join(str(i) for i in range(1, 200001, 2)),
                   "* 4294967295 EXISTS"]
            self.send("\r\n".join(out) + "\r\n")
            return True
        return True

    def answer(self, tag, cmd, args):
        if cmd in ("LIST", "LSUB"):
            self.send('* %s (\\HasNoChildren) "/" INBOX\r\n%s OK done\r\n'
                      % (cmd, tag))
        elif cmd == "STATUS":
            self.send("* STATUS INBOX (MESSAGES 0 UNSEEN 0 UIDNEXT 1 "
                      "UIDVALIDITY 1)\r\n%s OK done\r\n" % tag)
        elif cmd in ("SELECT", "EXAMINE"):
            # the bomb claims the largest mailbox IMAP can number
            n = 4294967295 if self.srv.scenario == "seqset-bomb" else 0
            self.send("* %d EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n"
                      "* OK [UIDNEXT %d] ok\r\n* FLAGS (\\Seen)\r\n"
                      "%s OK [READ-WRITE] done\r\n" % (
                          n, min(n + 1, 4294967295), tag))
        else:
            self.send("%s OK done\r\n" % tag)


class HostileServer:
    def __init__(self, scenario, certs=None, implicit=False, record=None):
        if scenario not in SCENARIOS:
            raise ValueError("unknown scenario %r (one of %s)" % (
                scenario, ", ".join(SCENARIOS)))
        self.scenario = scenario
        self.certs = certs
        self.implicit = implicit
        self.record_file = record
        self._lines = []
        self._lock = threading.Lock()
        self._conns = 0
        self.sock = None
        self.port = None
        self._stop = threading.Event()

    def record(self, num, phase, line):
        with self._lock:
            self._lines.append((num, phase, line))
            if self.record_file:
                with open(self.record_file, "a") as f:
                    f.write(json.dumps({"conn": num, "phase": phase,
                                        "line": line.decode("latin-1")})
                            + "\n")

    def lines(self, phase=None):
        """[(conn, phase, bytes)] the client sent, in order."""
        with self._lock:
            return [x for x in self._lines if phase in (None, x[1])]

    def sent_credentials(self, phase="plain"):
        """True when a LOGIN or AUTHENTICATE (or anything after one, such
        as a SASL response) arrived in phase."""
        for _n, _p, line in self.lines(phase):
            words = line.split(b" ", 2)
            if len(words) > 1 and words[1].upper() in (b"LOGIN",
                                                       b"AUTHENTICATE"):
                return True
        return False

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def _accept(self):
        while not self._stop.is_set():
            try:
                s, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._conns += 1
            c = Conn(self, s, self._conns)
            threading.Thread(target=c.run, daemon=True).start()

    def stop(self):
        self._stop.set()
        if self.sock:
            self.sock.close()
        self._thread.join(2)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def main(argv):
    import argparse
    import tempfile
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", choices=SCENARIOS)
    ap.add_argument("--certs", help="certificate dir (dovecot.py's tls/;"
                    " made if missing; default a temp dir)")
    ap.add_argument("--record", help="append client lines here (JSON)")
    ap.add_argument("--implicit", action="store_true",
                    help="TLS from the start (scenario good)")
    ap.add_argument("--timeout", type=float, default=600,
                    help="exit after this many seconds (600)")
    a = ap.parse_args(argv[1:])
    tmp = None
    if not a.certs:
        tmp = tempfile.mkdtemp(prefix="postern-hostile-")
        a.certs = tmp
    try:
        srv = HostileServer(a.scenario, certs_in(a.certs), a.implicit,
                            a.record).start()
        print(json.dumps({"host": HOST, "port": srv.port,
                          "scenario": a.scenario,
                          "ca": srv.certs["ca"]}), flush=True)
        # serve until SIGTERM/SIGINT or --timeout (bounded: a forgotten
        # server goes away by itself)
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
        done.wait(a.timeout)
        srv.stop()
    finally:
        if tmp:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
