#!/usr/bin/env python3
"""`postern repl` against a real Dovecot (TAP).

The console is driven the way a user drives it: on a pseudo-terminal,
inside a private tmux server (its own socket under the test's temporary
directory, killed in a finally), with keys sent by `tmux send-keys` and
the screen read back by `tmux capture-pane`.  Every wait is bounded: the
screen is polled until the expected text shows or WAIT seconds pass, and
then the test fails showing the end of the screen.  Scripts (-c, stdin)
run without a terminal and are checked by their output and exit status.

The harness (dovecot.py) starts Dovecot on 127.0.0.1 in a temporary
directory; it is stopped in a finally.  What postern appends is fetched
back with Python's imaplib and compared byte for byte.  HOME,
XDG_CONFIG_HOME and XDG_STATE_HOME point into the temporary directory;
the terminal is TERM=xterm-256color with NO_COLOR=1 (one test leaves
colour on).  The binary is $POSTERN (default ./build/postern).  When the
harness cannot start, every test fails saying why.
"""

import base64
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402 - next to this file
from clitest import (  # noqa: E402
    CTX,
    Fail,
    POSTERN,
    check,
    eq,
    imap,
    imap_append,
    imap_fetch_raw,
    message,
    multipart,
    mutf7,
    test)


TMUX = shutil.which("tmux")
WAIT = 10.0


# ---- helpers -----------------------------------------------------------------

def run(args, stdin=None, timeout=60):
    """postern without a terminal (a new session: no /dev/tty either)."""
    return clitest.run(args, stdin, timeout, new_session=True)


def imap_create(name):
    c = imap()
    try:
        typ, data = c.create('"%s"' % mutf7(name))
        check(typ == "OK" or b"exists" in data[0], "imaplib CREATE %s: %r" % (name, data))
    finally:
        c.logout()


def path(name):
    return os.path.join(CTX["tmp"], name)


def write(name, data):
    p = path(name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def read(p):
    with open(p, "rb") as f:
        return f.read()


def trace_lines(p):
    """The trace without its timestamps: [("C"|"S", text)]."""
    out = []
    for line in read(p).decode("utf-8", "replace").splitlines():
        m = re.match(r"^\d\d:\d\d:\d\d\.\d{3} ([CS]): (.*)$", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def appenduid(text):
    m = re.search(r"OK \[APPENDUID (\d+) (\d+)\]", text)
    check(m, "no APPENDUID in %r" % text[-400:])
    return int(m.group(2))


# ---- the terminal --------------------------------------------------------------

class Term:
    """postern repl ARGS on a 200x50 tmux pane of its own tmux server."""
    count = 0

    def __init__(self, args, color=False, unset=()):
        if not TMUX:
            raise Fail("tmux is not installed: the console needs a terminal to be tested on")
        Term.count += 1
        self.sock = "repl-%d-%d" % (os.getpid(), Term.count)
        words = ["env"] + ["-u" + u for u in unset] + ["TERM=xterm-256color"]
        if not color:
            words.append("NO_COLOR=1")
        cmd = "%s %s; echo \"[exited $?]\"; exec sleep 600" % (
            " ".join(words), " ".join(shlex.quote(a) for a in [POSTERN, "repl"] + args))
        self.tmux("new-session", "-d", "-s", "t", "-x", "200", "-y", "50", cmd)
        try:
            self.tmux("set-option", "-t", "t", "history-limit", "20000")
        except Exception:
            self.close()
            raise

    def tmux(self, *args):
        p = subprocess.run([TMUX, "-L", self.sock, "-f", "/dev/null"] + list(args),
                           env=CTX["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20)
        if p.returncode != 0:
            raise Fail("tmux %s: %s" % (args[0], p.stderr.decode().strip()))
        return p.stdout.decode("utf-8", "replace")

    def close(self):
        subprocess.run([TMUX, "-L", self.sock, "-f", "/dev/null", "kill-server"],
                       env=CTX["env"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=20)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def lines(self, escapes=False):
        args = ["capture-pane", "-t", "t", "-p", "-J", "-S", "-20000"]
        if escapes:
            args.append("-e")
        out = [l.rstrip() for l in self.tmux(*args).split("\n")]
        while out and not out[-1]:
            out.pop()
        return out

    def screen(self):
        return "\n".join(self.lines())

    def mark(self):
        """The line where the next output starts (the one being typed)."""
        return max(len(self.lines()) - 1, 0)

    def wait(self, pattern, since=0, timeout=WAIT):
        """The first match of the regex pattern at or after line since."""
        rx = re.compile(pattern, re.M)
        end = time.time() + timeout
        while True:
            text = "\n".join(self.lines()[since:])
            m = rx.search(text)
            if m:
                return m
            if time.time() > end:
                raise Fail("waited %.0f s for /%s/; the screen ends:\n%s" % (
                    timeout, pattern, "\n".join(self.lines()[-25:])))
            time.sleep(0.1)

    def prompt(self, since=0, timeout=WAIT):
        return self.wait(r"^postern( \(disconnected\))?>$", since, timeout)

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)

    def type(self, text, enter=True):
        if text:
            self.tmux("send-keys", "-t", "t", "-l", text)
        if enter:
            self.keys("Enter")

    def more(self, since, k, timeout=WAIT):
        """Wait for the k-th "> " prompt of a typed literal after since."""
        end = time.time() + timeout
        while True:
            lines = self.lines()[since:]
            if len([l for l in lines if l == ">" or l.startswith("> ")]) >= k:
                return
            if time.time() > end:
                raise Fail("waited %.0f s for literal prompt %d; the screen ends:\n%s" % (
                    timeout, k, "\n".join(lines[-25:])))
            time.sleep(0.1)

    def cmd(self, text, timeout=WAIT):
        """Type a line and wait for the next prompt: the text shown."""
        m = self.mark()
        self.type(text)
        self.prompt(m + 1, timeout)
        return "\n".join(self.lines()[m:])

    def start(self):
        self.prompt()
        return self.screen()

    def quit(self, status=0):
        m = self.mark()
        self.type(".quit")
        self.wait(r"^\[exited %d\]" % status, m)


def tty_session(args, **kw):
    t = Term(args, **kw)
    try:
        t.start()
    except Exception:
        t.close()
        raise
    return t


# ---- tags, completion ------------------------------------------------------------

@test
def tags_added_and_timed():
    with tty_session(["dv"]) as t:
        s = t.screen()
        check("connected to 127.0.0.1:%d" % CTX["info"]["imap_port"] in s, "greeting: %r" % s)
        check("Dovecot" in s, "server greeting shown")
        check(re.search(r"^capabilities: .*\bIMAP4REV1\b.*\bIDLE\b", s, re.M | re.I), "caps")
        check("logged in" in s, "logged in: %r" % s)
        out = t.cmd("noop")
        check(re.search(r"^a1 OK .*\(\d+(\.\d+)? ms\)$", out, re.M), "a1 with its time: %r" % out)
        out = t.cmd("x7 noop")
        check(re.search(r"^x7 OK .*\(\d+(\.\d+)? ms\)$", out, re.M), "own tag x7: %r" % out)
        out = t.cmd("noop")
        check(re.search(r"^a2 OK ", out, re.M), "numbering goes on after a typed tag: %r" % out)
        out = t.cmd("bogus-command")
        check(re.search(r"^a3 BAD ", out, re.M), "BAD shown: %r" % out)
        t.quit()


@test
def completes_non_ascii_mailbox():
    imap_create("Entwürfe")
    imap_create("Gelöscht Alt")
    tr = path("complete.trace")
    with tty_session(["dv", "--trace", tr]) as t:
        m = t.mark()
        t.type("sel", enter=False)
        t.keys("Tab")
        t.wait(r"^postern> select ?$", m)
        t.type("Entw", enter=False)
        t.keys("Tab")
        t.wait(r"^postern> select Entwürfe$", m)
        t.keys("Enter")
        t.prompt(m + 1)
        out = "\n".join(t.lines()[m:])
        check(re.search(r"^a1 OK \[READ-WRITE\]", out, re.M), "selected: %r" % out)
        # a name with a space: completed quoted
        m = t.mark()
        t.type("examine Gel", enter=False)
        t.keys("Tab")
        t.wait(r'^postern> examine "Gelöscht Alt"$', m)
        t.keys("Enter")
        t.prompt(m + 1)
        out = "\n".join(t.lines()[m:])
        check(re.search(r"^a2 OK \[READ-ONLY\]", out, re.M), "examined: %r" % out)
        t.quit()
    sent = [x for d, x in trace_lines(tr) if d == "C"]
    check("a1 SELECT Entw&APw-rfe" in sent, "modified UTF-7 on the wire: %r" % sent)
    check('a2 EXAMINE "%s"' % mutf7("Gelöscht Alt") in sent, "quoted mUTF-7: %r" % sent)


# ---- literals -----------------------------------------------------------------

@test
def literal_from_file_byte_identical():
    data = message(b"repl file literal", b"line one\r\nline two\r\n\r\n8bit \xc3\xa9\r\n")
    p = write("repl-lit.eml", data)
    with tty_session(["dv"]) as t:
        out = t.cmd("append INBOX (\\Seen) {file:%s}" % p)
        u1 = appenduid(out)
        out = t.cmd("append INBOX <%s" % p)
        u2 = appenduid(out)
        out = t.cmd("append INBOX ~{file:%s}" % p)
        u3 = appenduid(out)
        m = t.mark()
        t.type("append INBOX {<<END}")
        for k, line in enumerate(("Subject: typed literal", "", "typed body", "END")):
            t.more(m, k + 1)
            t.type(line)
        t.prompt(m + 1)
        u4 = appenduid("\n".join(t.lines()[m:]))
        t.quit()
    eq(imap_fetch_raw("INBOX", u1), data, "{file:PATH}")
    eq(imap_fetch_raw("INBOX", u2), data, "<PATH")
    eq(imap_fetch_raw("INBOX", u3), data, "~{file:PATH}")
    # joined with CRLF, none after the last line (a password can be one)
    eq(imap_fetch_raw("INBOX", u4), b"Subject: typed literal\r\n\r\ntyped body", "{<<END}")
    c = imap()
    try:
        c.select("INBOX", readonly=True)
        typ, d = c.uid("FETCH", str(u1), "(FLAGS)")
        check(b"\\Seen" in d[0], "flags sent with the literal: %r" % d)
    finally:
        c.logout()


@test
def literal_plus_and_synchronising():
    c = imap()
    try:
        check("LITERAL+" in [x.upper() for x in c.capabilities], "Dovecot offers LITERAL+")
    finally:
        c.logout()
    data = message(b"sync or not")
    p = write("sync.eml", data)
    tr = path("literal.trace")
    with tty_session(["dv", "--trace", tr]) as t:
        appenduid(t.cmd("append INBOX {file:%s}" % p))
        out = t.cmd(".literal sync")
        check("synchronising" in out, ".literal sync: %r" % out)
        u = appenduid(t.cmd("append INBOX {file:%s}" % p))
        t.cmd(".literal auto")
        appenduid(t.cmd("append INBOX {file:%s}" % p))
        t.quit()
    eq(imap_fetch_raw("INBOX", u), data, "the synchronising one")
    lines = trace_lines(tr)
    appends = [i for i, (d, x) in enumerate(lines) if d == "C" and " APPEND INBOX " in x]
    eq(len(appends), 3, "three APPENDs in the trace")
    n = len(data)
    for k, i in enumerate(appends):
        line = lines[i][1]
        if k == 1:
            check(line.endswith("APPEND INBOX {%d}" % n), "synchronising: %r" % line)
            eq(lines[i + 1][0], "S", "the server speaks next")
            check(lines[i + 1][1].startswith("+"), "a continuation: %r" % (lines[i + 1],))
        else:
            check(line.endswith("APPEND INBOX {%d+}" % n), "LITERAL+: %r" % line)
            eq(lines[i + 1][0], "C", "no wait for a continuation: %r" % (lines[i + 1],))


# ---- untagged data: IDLE, between commands ------------------------------------

@test
def idle_sees_append():
    with tty_session(["dv"]) as t:
        out = t.cmd("select INBOX")
        n = int(re.search(r"^\* (\d+) EXISTS", out, re.M).group(1))
        m = t.mark()
        t.type("idle")
        t.wait(r"idling", m)
        time.sleep(0.3)
        imap_append("INBOX", message(b"pushed while idling"))
        t.wait(r"^\* %d EXISTS$" % (n + 1), m)
        m2 = t.mark()
        t.keys("Enter")
        t.prompt(m2)
        out = "\n".join(t.lines()[m2:])
        check("DONE" in out, "DONE: %r" % out)
        check(re.search(r"^a\d+ OK Idle", out, re.M), "IDLE's tagged OK shown: %r" % out)
        out = t.cmd("noop")
        check(re.search(r"^a\d+ OK ", out, re.M), "a command after IDLE: %r" % out)
        t.quit()


@test
def untagged_between_commands():
    with tty_session(["dv"]) as t:
        out = t.cmd("select INBOX")
        n = int(re.search(r"^\* (\d+) EXISTS", out, re.M).group(1))
        imap_append("INBOX", message(b"seen at the next noop"))
        out = t.cmd("noop")
        check(re.search(r"^\* %d EXISTS$(.|\n)*^a\d+ OK NOOP" % (n + 1), out, re.M),
              "EXISTS before the noop's OK: %r" % out)
        t.quit()
    # Dovecot sends nothing unasked outside IDLE (not even after NOTIFY):
    # a server on a tunnel pushes an EXISTS while a half-typed line waits,
    # which is given back intact.
    go = path("push-now")
    server = ("printf '* PREAUTH [CAPABILITY IMAP4rev1 IDLE] fake\\r\\n'; "
              "while [ ! -e %s ]; do sleep 0.05; done; printf '* 5 EXISTS\\r\\n'; "
              "read -r l; printf '%%s OK done\\r\\n' \"${l%%%% *}\"; "
              "read -r l; printf '* BYE bye\\r\\n%%s OK bye\\r\\n' \"${l%%%% *}\"; sleep 1"
              % shlex.quote(go))
    with tty_session(["--tunnel", server]) as t:
        m = t.mark()
        t.type("fetch 1:* (fl", enter=False)
        t.wait(r"^postern> fetch 1:\* \(fl$", m)
        with open(go, "w"):
            pass
        t.wait(r"^\* 5 EXISTS$", m)
        t.wait(r"^\* 5 EXISTS\npostern> fetch 1:\* \(fl$", m)
        m = t.mark()
        t.type("ags)")
        t.prompt(m + 1)
        out = "\n".join(t.lines()[m:])
        check(re.search(r"^postern> fetch 1:\* \(flags\)\na1 OK done", out, re.M),
              "the line went on: %r" % out)
        t.quit()


@test
def dropped_connection_at_the_prompt():
    tunnel = "printf '* PREAUTH [CAPABILITY IMAP4rev1 IDLE] fake\\r\\n'; sleep 1"
    with tty_session(["--tunnel", tunnel]) as t:
        m = t.mark()
        t.wait(r"connection is gone", m, timeout=8)
        t.wait(r"^postern \(disconnected\)>$", m)
        out = t.cmd("noop")
        check("not connected" in out, "a command when disconnected: %r" % out)
        t.quit()


# ---- login, history, trace ---------------------------------------------------------

@test
def login_prompt_and_history_without_password():
    pw = CTX["info"]["users"]["alice"]
    hist = os.path.join(CTX["state"], "postern", "repl_history")
    if os.path.exists(hist):
        os.unlink(hist)
    with tty_session(["dv", "--no-login"]) as t:
        s = t.screen()
        check("not logged in" in s, "not logged in: %r" % s)
        # before login only what the pre-login CAPABILITY offers completes
        m = t.mark()
        t.type("mov", enter=False)
        t.keys("Tab")
        time.sleep(0.5)
        check(t.lines()[m] == "postern> mov", "MOVE completed before login: %r" % t.lines()[m])
        t.keys("C-u")
        m = t.mark()
        t.type("login alice")
        t.wait(r"Password:", m)
        t.type(pw)
        t.prompt(m + 1)
        out = "\n".join(t.lines()[m:])
        check(re.search(r"^a1 OK ", out, re.M), "logged in: %r" % out)
        check(pw not in t.screen(), "the password was echoed")
        m = t.mark()
        t.type("mov", enter=False)
        t.keys("Tab")
        t.wait(r"^postern> move ?$", m)
        t.keys("C-u")
        t.cmd("select INBOX")
        t.cmd("noop")
        t.quit()
    with tty_session(["dv", "--no-login"]) as t:
        out = t.cmd("login alice %s" % pw)
        check(re.search(r"^a1 OK ", out, re.M), "login in the line: %r" % out)
        out = t.cmd("x9 LOGIN alice %s" % pw)
        check(re.search(r"^x9 (BAD|NO) ", out, re.M), "a second LOGIN refused: %r" % out)
        # the last session's lines come back with Up
        m = t.mark()
        t.keys("Up")
        t.wait(r"^postern> \.quit$", m)
        t.keys("Up")
        t.wait(r"^postern> noop$", m)
        t.keys("C-u")
        t.cmd("status INBOX (messages)")
        t.quit()
    st = os.stat(hist)
    eq(stat.S_IMODE(st.st_mode), 0o600, "history mode")
    eq(stat.S_IMODE(os.stat(os.path.dirname(hist)).st_mode), 0o700, "history directory mode")
    text = read(hist)
    check(pw.encode() not in text, "the password is in the history: %r" % text)
    lines = text.decode().splitlines()
    check("select INBOX" in lines and "noop" in lines and "status INBOX (messages)" in lines,
          "history lines: %r" % lines)
    check(not [l for l in lines if re.search(r"\blogin\b", l, re.I)], "LOGIN kept: %r" % lines)


@test
def history_default_location():
    hist = os.path.join(CTX["tmp"], ".local", "state", "postern", "repl_history")
    with tty_session(["dv"], unset=["XDG_STATE_HOME"]) as t:
        t.cmd("noop")
        t.quit()
    check(os.path.exists(hist), "no %s" % hist)
    eq(stat.S_IMODE(os.stat(hist).st_mode), 0o600, "mode")
    check(b"noop" in read(hist), "noop in %r" % read(hist))


@test
def trace_redacts_every_password():
    users = CTX["info"]["users"]
    tr = path("secrets.trace")
    # LOGIN with the password in the line
    with tty_session(["dv", "--no-login"]) as t:
        out = t.cmd(".trace %s" % tr)
        check("trace appended to %s" % tr in out, ".trace FILE: %r" % out)
        out = t.cmd("login alice %s" % users["alice"])
        check(re.search(r"^a1 OK ", out, re.M), "LOGIN: %r" % out)
        t.cmd("noop")
        t.quit()
    # AUTHENTICATE PLAIN, the password asked for
    with tty_session(["dv", "--no-login", "--trace", tr]) as t:
        m = t.mark()
        t.type("authenticate PLAIN bob")
        t.wait(r"Password:", m)
        t.type(users["bob"])
        t.prompt(m + 1)
        out = "\n".join(t.lines()[m:])
        check("authenticated" in out, "AUTHENTICATE PLAIN: %r" % out)
        check(users["bob"] not in t.screen(), "bob's password on the screen")
        out = t.cmd("noop")
        check(re.search(r"^a\d+ OK ", out, re.M), "logged in as bob: %r" % out)
        t.quit()
    # LOGIN with the password carried by a typed literal
    with tty_session(["dv", "--no-login", "--trace", tr]) as t:
        m = t.mark()
        t.type("login alice {<<END}")
        t.more(m, 1)
        t.type(users["alice"])
        t.more(m, 2)
        t.type("END")
        t.prompt(m + 1)
        out = "\n".join(t.lines()[m:])
        check(re.search(r"^a1 OK ", out, re.M), "LOGIN with a literal: %r" % out)
        t.quit()
    text = read(tr).decode("utf-8", "replace")
    for u, pw in users.items():
        check(pw not in text, "%s's password in the trace:\n%s" % (u, text))
        b64 = base64.b64encode(("\0%s\0%s" % (u, pw)).encode()).decode()
        check(b64 not in text, "the PLAIN response in the trace")
    sent = [x for d, x in trace_lines(tr) if d == "C"]
    check([x for x in sent if re.match(r"^a1 LOGIN alice <redacted>$", x)], "LOGIN line: %r" % sent)
    check([x for x in sent if re.match(r"^\S+ AUTHENTICATE PLAIN\b", x)], "AUTHENTICATE: %r" % sent)
    check([x for x in sent if re.match(r"^a1 LOGIN alice \{\d+\+?\}", x)] or
          [x for x in sent if re.match(r"^a1 LOGIN alice <redacted>", x)],
          "literal LOGIN: %r" % sent)
    check(len([x for x in sent if re.search(r" NOOP$", x)]) == 2, "commands still traced: %r" % sent)
    check(re.search(r"^\d\d:\d\d:\d\d\.\d{3} S: a1 OK ", text, re.M), "timestamps and replies")
    hist = read(os.path.join(CTX["state"], "postern", "repl_history"))
    for pw in users.values():
        check(pw.encode() not in hist, "a password in the history")


# ---- server literals: save, summaries ------------------------------------------------

@test
def save_writes_the_literal():
    data = message(b"to be saved", b"\xff\xfe binary \x00 bytes\r\nand text\r\n")
    uid = imap_append("INBOX", data)
    out_file = path("saved.eml")
    with tty_session(["dv"]) as t:
        t.cmd("select INBOX")
        out = t.cmd("uid fetch %d body.peek[]" % uid)
        check(re.search(r"^a\d+ OK ", out, re.M), "fetch: %r" % out)
        out = t.cmd(".save %s" % out_file)
        # (Dovecot sends the NUL as 0x80: compare with what imaplib gets)
        check("wrote %s (%d bytes)" % (out_file, len(data)) in out, ".save: %r" % out)
        saved = read(out_file)
        eq(saved, imap_fetch_raw("INBOX", uid), "saved bytes")
        out = t.cmd(".save %s" % out_file)
        check("exists" in out and "not replaced" in out, "second .save: %r" % out)
        eq(read(out_file), saved, "left alone")
        t.quit()


@test
def long_literals_summarised():
    uid = imap_append("INBOX", multipart(b"summarised"))
    part = imap_fetch_raw("INBOX", uid, "BODY.PEEK[2]")
    check(len(part) > 4096, "the part is long")
    first = part.split(b"\r\n")[0].decode()
    with tty_session(["dv"]) as t:
        t.cmd("select INBOX")
        out = t.cmd("uid fetch %d body.peek[2]" % uid)
        check(re.search(r"\{%d bytes, base64(, [a-z]+/[-a-z0-9.+]+)?\}" % len(part), out),
              "summary: %r" % out)
        check(first not in out, "the base64 shown anyway")
        out = t.cmd("uid fetch %d body.peek[1]" % uid)
        check("see attached" in out, "a short text literal shown: %r" % out)
        t.cmd(".show full")
        out = t.cmd("uid fetch %d body.peek[2]" % uid)
        check(first in out, ".show full: %r" % out[:500])
        check("bytes, base64" not in out, "still summarised")
        t.quit()


# ---- colour, helpers --------------------------------------------------------------

@test
def colour_unless_no_color():
    with tty_session(["dv"], color=True) as t:
        m = t.mark()
        t.cmd("noop")
        shown = "\n".join(t.lines(escapes=True)[m:])
        check(re.search(r"\x1b\[[0-9;]*32m *OK", shown), "OK in green: %r" % shown)
        check(re.search(r"\x1b\[[0-9;]*36m *a1", shown), "tag in cyan: %r" % shown)
        t.quit()
    with tty_session(["dv"]) as t:
        m = t.mark()
        t.cmd("noop")
        shown = "\n".join(t.lines(escapes=True)[m:])
        check(not re.search(r"\x1b\[[0-9;]*3[0-7]m", shown), "colour under NO_COLOR: %r" % shown)
        t.quit()


@test
def helpers():
    with tty_session(["dv"]) as t:
        out = t.cmd(".help")
        for h in (".help", ".caps", ".trace", ".timing", ".save", ".show", ".literal",
                  ".tls", ".reconnect", ".quit"):
            check(re.search(r"^  %s " % re.escape(h), out, re.M), "%s in .help: %r" % (h, out))
        out = t.cmd(".help fetch")
        check(re.search(r"^FETCH set \(items\)", out, re.M) and "RFC 9051" in out,
              ".help fetch: %r" % out)
        out = t.cmd(".help frobnicate")
        check("no IMAP command" in out, ".help of nothing: %r" % out)
        out = t.cmd(".caps")
        for cap in ("IMAP4REV1", "IDLE", "LITERAL+", "UIDPLUS"):
            check(re.search(r"(?<!\S)%s(?!\S)" % re.escape(cap), out, re.I),
                  "%s in .caps: %r" % (cap, out))
        out = t.cmd(".timing")
        check(re.search(r"connect \d+\.\d ms, TLS \d+\.\d ms", out), ".timing: %r" % out)
        out = t.cmd(".tls")
        check(re.search(r"^TLSv1\.[0-3], \S+", out, re.M), ".tls after STARTTLS: %r" % out)
        out = t.cmd(".nonsense")
        check("no such helper" in out, "unknown helper: %r" % out)
        out = t.cmd(".reconnect")
        check("connected again" in out, ".reconnect: %r" % out)
        out = t.cmd("noop")
        check(re.search(r"^a\d+ OK ", out, re.M), "noop after .reconnect: %r" % out)
        t.quit()


@test
def tls_on_implicit_tls():
    with tty_session(["dvs"]) as t:
        out = t.cmd(".tls")
        check(re.search(r"^TLSv1\.[0-3], [A-Z0-9_-]+$", out, re.M), "version and cipher: %r" % out)
        check(re.search(r"^verified yes", out, re.M), "verified: %r" % out)
        check(re.search(r"^subject ", out, re.M) and re.search(r"^issuer ", out, re.M),
              "certificate: %r" % out)
        t.quit()
    rc, out, err = run(["repl", "dvs", "-c", ".tls"])
    eq(rc, 0, "script .tls status: %s" % err)
    check(re.match(rb"^TLSv1\.[0-3], \S+\n", out), "script .tls: %r" % out)


# ---- scripts -------------------------------------------------------------------

@test
def script_exit_status():
    rc, out, err = run(["repl", "dv", "-c", "noop", "-c", "select INBOX"])
    eq(rc, 0, "all OK (%s)" % err)
    check(re.search(rb"^a1 OK ", out, re.M) and re.search(rb"^a2 OK \[READ-WRITE\]", out, re.M),
          "responses on stdout: %r" % out)
    check(b"ms)" not in out, "no timings without a terminal")
    rc, out, err = run(["repl", "dv", "-c", "select Nonexistent", "-c", "noop"])
    eq(rc, 1, "NO")
    check(re.search(rb"^a1 NO ", out, re.M), "the NO: %r" % out)
    check(b"a2 " not in out, "stopped after the NO: %r" % out)
    rc, out, err = run(["repl", "dv", "-c", "bogus"])
    eq(rc, 2, "BAD")
    check(re.search(rb"^a1 BAD ", out, re.M), "the BAD: %r" % out)
    rc, out, err = run(["repl", "dv", "--keep-going", "-c", "select Nonexistent", "-c", "noop"])
    eq(rc, 1, "--keep-going after NO: the worst status")
    check(re.search(rb"^a2 OK NOOP", out, re.M), "went on: %r" % out)
    rc, out, err = run(["repl", "dv", "-k", "-c", "bogus", "-c", "select Nonexistent",
                        "-c", "noop"])
    eq(rc, 2, "--keep-going after BAD")
    check(re.search(rb"^a3 OK NOOP", out, re.M), "went on after BAD: %r" % out)
    rc, out, err = run(["repl", "dv", "--no-login", "-c", "login alice"])
    eq(rc, 2, "login USER without a terminal")
    check("terminal" in err, "why: %r" % err)


@test
def script_on_stdin():
    tr = path("stdin.trace")
    script = (b"# a comment\nselect INBOX\n   # an indented comment\n\n"
              b"noop\nexamine \"Entw\xc3\xbcrfe\"\n")
    imap_create("Entwürfe")
    rc, out, err = run(["repl", "dv", "--trace", tr], stdin=script)
    eq(rc, 0, "status (%s)" % err)
    tags = re.findall(rb"^(a\d+) OK", out, re.M)
    eq(tags, [b"a1", b"a2", b"a3"], "three commands, comments skipped: %r" % out)
    sent = [x for d, x in trace_lines(tr) if d == "C"]
    check(not [x for x in sent if "comment" in x], "a comment sent: %r" % sent)
    check('a3 EXAMINE Entw&APw-rfe' in sent, "mUTF-7 in a script: %r" % sent)
    rc, out, err = run(["repl", "dv"], stdin=b"noop\nselect Nonexistent\nnoop\n")
    eq(rc, 1, "NO on stdin")
    check(b"a3" not in out, "stopped: %r" % out)
    msg = message(b"script heredoc")
    rc, out, err = run(["repl", "dv"], stdin=b"append INBOX {<<EOM}\n" +
                       msg.replace(b"\r\n", b"\n") + b"EOM\nnoop\n")
    eq(rc, 0, "heredoc in a script (%s)" % err)
    eq(imap_fetch_raw("INBOX", appenduid(out.decode())), msg[:-2], "heredoc literal (no CRLF at the end)")


# A server on a tunnel: PREAUTH with its capabilities (so that nothing is
# asked before the console starts), answers OK to the first command, then
# waits SECONDS and goes away.
def dying_server(seconds):
    return ("printf '* PREAUTH [CAPABILITY IMAP4rev1 IDLE] fake\\r\\n'; read -r l; "
            "printf '%%s OK done\\r\\n' \"${l%%%% *}\"; sleep %s" % seconds)


@test
def script_dropped_connection():
    tunnel = dying_server(0.2)
    rc, out, err = run(["repl", "--tunnel", tunnel, "-c", "noop", "-c", "noop", "-c", "noop"],
                       timeout=30)
    eq(rc, 2, "status (%s)" % err)
    check(re.search(rb"^a1 OK done", out, re.M), "the first command answered: %r" % out)
    check("closed" in err or "lost" in err, "says why: %r" % err)
    eq(err.count("not connected"), 0, "stopped at the loss: %r" % err)
    rc, out, err = run(["repl", "--tunnel", tunnel, "--keep-going"],
                       stdin=b"noop\nnoop\nnoop\n", timeout=30)
    eq(rc, 2, "stdin, --keep-going (%s)" % err)
    check(re.search(rb"^a1 OK done", out, re.M), "the first command answered: %r" % out)
    rc, out, err = run(["repl", "--tunnel", CTX["info"]["preauth_cmd"], "-c", "noop"])
    eq(rc, 0, "a tunnel that stays (%s)" % err)


@test
def script_raw_is_the_wire():
    data = message(b"raw wire", b"one\r\ntwo\r\n")
    uid = imap_append("INBOX", data)
    tr = path("raw.trace")
    rc, out, err = run(["repl", "dv", "--raw", "--trace", tr, "-c", "select INBOX",
                        "-c", "uid fetch %d (flags body.peek[])" % uid, "-c", "noop"])
    eq(rc, 0, "status (%s)" % err)
    lines = trace_lines(tr)
    first = [i for i, (d, x) in enumerate(lines) if d == "C" and x == "a1 SELECT INBOX"][0]
    last = [i for i, (d, x) in enumerate(lines) if d == "C" and x.endswith(" LOGOUT")][0]
    want = b"".join(x.replace("\\n", "\r\n").encode() + b"\r\n"
                    for d, x in lines[first:last] if d == "S")
    eq(out, want, "stdout is what the server sent")
    check(b"{%d}\r\n" % len(data) + data + b")\r\n" in out, "the literal byte for byte")
    # --raw on a terminal: no timings either
    with tty_session(["dv", "--raw"]) as t:
        out = t.cmd("noop")
        check(re.search(r"^a1 OK NOOP", out, re.M), "raw on a tty: %r" % out)
        check("ms)" not in out, "a timing in raw mode: %r" % out)
        t.quit()


@test
def maildir_target_refused():
    md = path("Mail")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    for target in (md, "maildir:" + md):
        rc, out, err = run(["repl", target, "-c", "noop"])
        eq(rc, 2, "status for %s" % target)
        eq(len(err.splitlines()), 1, "one line: %r" % err)
        check("Maildir" in err, err)
        eq(out, b"", "nothing on stdout")


# ---- driver -----------------------------------------------------------------------

def prepare():
    """A terminal of our own: tmux's socket and the history in the test's
    directory, colour left to each test."""
    tmp = CTX["tmp"]
    CTX["state"] = os.path.join(tmp, "state")
    env = CTX["env"]
    env["XDG_STATE_HOME"] = CTX["state"]
    env["TMUX_TMPDIR"] = tmp
    env["TERM"] = "xterm-256color"
    env.pop("TMUX", None)
    env.pop("NO_COLOR", None)


if __name__ == "__main__":
    sys.exit(clitest.main("postern-repl-", prepare=prepare))
