#!/usr/bin/env python3
"""Accounts, TARGET forms and password sources, through the binary (TAP).

No real server: config errors and target resolution are checked with
`postern accounts` and with failures that happen before any network
traffic; the password sources (password_command argv, ~/.netrc, the
/dev/tty prompt) against a tiny scripted IMAP server on 127.0.0.1 that
records what the client sends.  The binary is $POSTERN (default
./build/postern).  A test that cannot run says why and fails.
"""

import base64
import fcntl
import json
import os
import pty
import re
import select
import socket
import stat
import subprocess
import sys
import tempfile
import termios
import threading
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POSTERN = os.path.abspath(os.environ.get("POSTERN") or os.path.join(REPO, "build", "postern"))

results = []


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def eq(got, want, what=""):
    if got != want:
        raise Fail("%s: got %r, want %r" % (what, got, want))


def test(fn):
    results.append(fn)
    return fn


# ---- environment --------------------------------------------------------------

class Env:
    """A temporary HOME and XDG_CONFIG_HOME with an optional config."""

    def __init__(self, config=None, mode=0o600):
        self.dir = tempfile.mkdtemp(prefix="postern-cfg-")
        self.cfgdir = os.path.join(self.dir, "xdg", "postern")
        os.makedirs(self.cfgdir)
        self.path = os.path.join(self.cfgdir, "config")
        if config is not None:
            with open(self.path, "w") as f:
                f.write(config)
            os.chmod(self.path, mode)
        self.env = dict(os.environ)
        self.env["HOME"] = self.dir
        self.env["XDG_CONFIG_HOME"] = os.path.join(self.dir, "xdg")
        for k in ("POSTERN_TRACE", "NETRC"):
            self.env.pop(k, None)

    def run(self, args, stdin=subprocess.DEVNULL, new_session=True, timeout=30):
        p = subprocess.run([POSTERN] + args, stdin=stdin, env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, start_new_session=new_session)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")


def config_error(text, want_line, want_msg):
    e = Env(text)
    rc, out, err = e.run(["accounts"])
    eq(rc, 1, "exit status")
    eq(err, "postern accounts: %s:%d: %s\n" % (e.path, want_line, want_msg),
       "error")


# ---- a scripted IMAP server -----------------------------------------------------

class FakeServer:
    """One connection at a time on 127.0.0.1; no TLS, no STARTTLS offered
    (loopback, so the client may log in in plaintext).  Records every
    line and the credentials it was given."""

    CAPS = "IMAP4rev1 AUTH=PLAIN"

    def __init__(self, caps=None):
        if caps:
            self.CAPS = caps
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.lines = []
        self.creds = []
        self.stop_flag = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        self.sock.settimeout(0.2)
        while not self.stop_flag:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.serve(c)
            except Exception:
                pass
            finally:
                c.close()

    def serve(self, c):
        c.settimeout(20)
        f = c.makefile("rb")
        c.sendall(b"* OK [CAPABILITY " + self.CAPS.encode() + b"] fake ready\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            self.lines.append(line)
            parts = line.rstrip(b"\r\n").split(b" ", 2)
            tag, cmd = parts[0], parts[1].upper() if len(parts) > 1 else b""
            rest = parts[2] if len(parts) > 2 else b""
            if not self.command(c, f, tag, cmd, rest):
                return

    def command(self, c, f, tag, cmd, rest):
        if cmd == b"CAPABILITY":
            c.sendall(b"* CAPABILITY " + self.CAPS.encode() + b"\r\n" + tag + b" OK done\r\n")
        elif cmd == b"AUTHENTICATE":
            words = rest.split(b" ")
            if len(words) > 1:
                resp = words[1]
            else:
                c.sendall(b"+ \r\n")
                resp = f.readline().rstrip(b"\r\n")
                self.lines.append(resp)
            z = base64.b64decode(resp).split(b"\0")
            self.creds.append((z[1].decode(), z[2].decode()))
            c.sendall(tag + b" OK [CAPABILITY " + self.CAPS.encode() + b"] in\r\n")
        elif cmd == b"LOGIN":
            self.creds.append(tuple(w.strip(b'"').decode() for w in rest.split(b" ", 1)))
            c.sendall(tag + b" OK in\r\n")
        elif cmd == b"LIST":
            c.sendall(b'* LIST (\\HasNoChildren) "/" INBOX\r\n' + tag + b" OK listed\r\n")
        elif cmd == b"LOGOUT":
            c.sendall(b"* BYE bye\r\n" + tag + b" OK out\r\n")
            return False
        else:
            c.sendall(tag + b" OK fine\r\n")
        return True

    def close(self):
        self.stop_flag = True
        self.sock.close()
        self.t.join(2)


def account(port, extra=""):
    return ("[account fake]\nhost = 127.0.0.1\nport = %d\ntls = none\n"
            "user = alice\n%s" % (port, extra))


# ---- config syntax and errors --------------------------------------------------

@test
def accounts_lists_a_good_config():
    e = Env("# mail\n[account work]\nhost = imap.example.org\nport = 993\n"
            "tls = implicit\nuser = me@example.org\nauth = plain\n"
            "password_command = pass show mail/work\nmailbox = INBOX\n\n"
            "; second\n[account home]\ntunnel = ssh home /usr/lib/dovecot/imap\n")
    rc, out, err = e.run(["accounts", "--json"])
    eq((rc, err), (0, ""), "status")
    recs = [json.loads(l) for l in out.splitlines()]
    eq([r["name"] for r in recs], ["work", "home"], "names")
    eq(recs[0]["port"], 993, "port")
    eq(recs[0]["tls"], "implicit", "tls")
    eq(recs[0]["password_command"], ["pass", "show", "mail/work"], "argv")
    eq(recs[1]["tunnel"], "ssh home /usr/lib/dovecot/imap", "tunnel")
    eq(recs[1]["password"], "none", "tunnel password source")
    rc, out, err = e.run(["accounts"])
    eq(rc, 0, "plain status")
    check(out.startswith("work: imap.example.org:993, tls implicit, user me@example.org, auth plain, password command [\"pass\",\"show\",\"mail/work\"]\n"),
          "plain line: %r" % out)


@test
def password_command_is_split_without_a_shell():
    e = Env("[account w]\nhost = h\npassword_command = "
            "printf '%s\\n' \"a b\" 'c\"d' e\\ f \"x\\\"y\" $HOME `id` ;rm\n")
    rc, out, err = e.run(["accounts", "--json"])
    eq(rc, 0, "status: " + err)
    eq(json.loads(out)["password_command"],
       ["printf", "%s\\n", "a b", 'c"d', "e f", 'x"y', "$HOME", "`id`", ";rm"],
       "argv")


@test
def sample_config_parses():
    e = Env(open(os.path.join(REPO, "share", "postern.conf.sample")).read())
    rc, out, err = e.run(["accounts", "--json"])
    eq((rc, err), (0, ""), "status")
    eq([json.loads(l)["name"] for l in out.splitlines()], ["work", "home", "ssh"], "accounts")


@test
def error_unknown_key():
    config_error("[account work]\nhost = x\n\nhots = y\n", 4,
                 "unknown key 'hots' in [account work]")


@test
def error_key_before_section():
    config_error("# c\nhost = x\n", 2, "'host' before any [account NAME] section")


@test
def error_unknown_section():
    config_error("[server x]\n", 1, "unknown section '[server x]' (expected [account NAME])")


@test
def error_no_equals():
    config_error("[account a]\nhost x\n", 2, "expected 'key = value', got 'host x'")


@test
def error_bad_tls():
    config_error("[account a]\nhost = x\ntls = ssl\n", 3,
                 "tls must be implicit, starttls or none, not 'ssl'")


@test
def error_bad_port():
    config_error("[account a]\nhost = x\nport = 99999\n", 3,
                 "port must be a number from 1 to 65535, not '99999'")


@test
def error_bad_auth():
    config_error("[account a]\nhost = x\nauth = digest-md5\n", 3,
                 "auth must be auto, plain, login, cram-md5, xoauth2, oauthbearer or external, not 'digest-md5'")


@test
def error_bad_bool():
    config_error("[account a]\nhost = x\nnetrc = maybe\n", 3,
                 "netrc must be yes or no, not 'maybe'")


@test
def error_duplicate_key():
    config_error("[account a]\nhost = x\nuser = u\nhost = y\n", 4,
                 "duplicate key 'host' in [account a] (first on line 2)")


@test
def error_duplicate_account():
    config_error("[account a]\nhost = x\n[account b]\nhost = y\n[account a]\nhost = z\n",
                 5, "duplicate [account a] (first on line 1)")


@test
def error_no_host():
    config_error("[account a]\nuser = u\n[account b]\nhost = y\n", 1,
                 "[account a] has neither host nor tunnel")


@test
def error_two_password_sources():
    config_error("[account a]\nhost = x\nnetrc = yes\npassword_command = pass x\n", 1,
                 "[account a]: choose one of password_command, netrc and password")


@test
def error_unterminated_quote():
    config_error("[account a]\nhost = x\npassword_command = pass 'show\n", 3,
                 "password_command: unterminated ' quote")


@test
def error_bad_account_name():
    config_error("[account a/b]\nhost = x\n", 1,
                 "bad account name 'a/b' (letters, digits and - _ . @ + only)")


@test
def permission_warning():
    e = Env("[account a]\nhost = x\n", mode=0o644)
    rc, out, err = e.run(["accounts"])
    eq(rc, 0, "status")
    eq(err, "postern accounts: warning: %s is accessible by other users (mode 0644); "
       "it says how to get your passwords: chmod 600 '%s'\n" % (e.path, e.path),
       "warning")
    os.chmod(e.path, 0o600)
    rc, out, err = e.run(["accounts"])
    eq((rc, err), (0, ""), "no warning at 0600")


@test
def stored_password_warns():
    e = Env("[account a]\nhost = x\npassword = hunter2\n")
    rc, out, err = e.run(["accounts", "--json"])
    eq(rc, 0, "status")
    eq(err, "postern accounts: warning: %s:3: [account a] stores its password in the "
       "config file; password_command or netrc keeps it out\n" % e.path, "warning")
    check("hunter2" not in out, "password printed")
    eq(json.loads(out)["password"], "config", "source")


@test
def no_config_file():
    e = Env()
    rc, out, err = e.run(["accounts"])
    eq(rc, 1, "status")
    eq(err, "postern accounts: no config file %s (see postern-config(5))\n" % e.path, "error")


# ---- TARGET forms and option errors ------------------------------------------

@test
def target_unknown_account():
    e = Env("[account work]\nhost = x\n[account home]\nhost = y\n")
    rc, out, err = e.run(["ls", "nope"])
    eq(rc, 1, "status")
    eq(err, "postern ls: no account 'nope' in %s (accounts: work, home)\n" % e.path, "error")


@test
def target_without_config():
    e = Env()
    rc, out, err = e.run(["fetch", "work", "INBOX"])
    eq(rc, 1, "status")
    eq(err, "postern fetch: no account 'work': there is no config file %s (an account, "
       "an imap:// or imaps:// URL, or --tunnel CMD; see postern-config(5))\n" % e.path, "error")


@test
def target_other_scheme():
    rc, out, err = Env().run(["ls", "https://example.org/"])
    eq(rc, 2, "status")
    eq(err, "postern ls: 'https://example.org/': only imap:// and imaps:// URLs are targets\n", "error")


@test
def target_bad_url():
    rc, out, err = Env().run(["ls", "imaps://"])
    eq(rc, 1, "status")
    check(err.startswith("postern ls: ") and len(err.splitlines()) == 1, "one line: %r" % err)


@test
def target_missing():
    for cmd, want in (("ls", "missing TARGET (an account, an imap:// or imaps:// URL, a Maildir, or --tunnel CMD)"),
                      ("fetch", "missing TARGET (an account, an imap:// or imaps:// URL, a Maildir, or --tunnel CMD)"),
                      ("append", "missing TARGET and MAILBOX")):
        rc, out, err = Env().run([cmd])
        eq(rc, 2, cmd + " status")
        eq(err, "postern %s: %s (try 'postern %s --help')\n" % (cmd, want, cmd), cmd)


@test
def tunnel_takes_no_target():
    rc, out, err = Env().run(["ls", "--tunnel", "true", "extra"])
    eq(rc, 2, "status")
    eq(err, "postern ls: unexpected argument 'extra' (try 'postern ls --help')\n", "error")


@test
def tunnel_that_says_nothing():
    rc, out, err = Env().run(["ls", "--tunnel", "true", "--timeout", "5"])
    eq(rc, 1, "status")
    eq(len(err.splitlines()), 1, "one line: %r" % err)
    check(err.startswith("postern ls: "), err)


@test
def url_to_closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    rc, out, err = Env().run(["ls", "imap://alice@127.0.0.1:%d/" % port, "--timeout", "5"])
    eq(rc, 1, "status")
    eq(len(err.splitlines()), 1, "one line: %r" % err)
    check("127.0.0.1" in err and str(port) in err, "names the peer: %r" % err)


@test
def insecure_warning():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    rc, out, err = Env().run(["ls", "imaps://127.0.0.1:%d/" % port, "--insecure", "--timeout", "5"])
    eq(rc, 1, "status")
    first = err.splitlines()[0]
    eq(first, "postern ls: WARNING: --insecure turns off TLS certificate and host name "
       "verification: anyone on the network path can read and change this session, "
       "password included", "warning")


@test
def option_value_errors():
    cases = [
        (["ls", "x", "--tls", "ssl"], "postern ls: --tls takes implicit, starttls or none, not 'ssl' (try 'postern ls --help')\n"),
        (["ls", "x", "--timeout", "0"], "postern ls: --timeout takes whole seconds from 1 to 86400, not '0' (try 'postern ls --help')\n"),
        (["fetch", "x", "INBOX", "--uid", "1", "--search", "ALL"], "postern fetch: --uid and --search exclude each other (try 'postern fetch --help')\n"),
        (["fetch", "x", "INBOX", "-o", "d"], "postern fetch: -o DIR goes with --raw or --part (try 'postern fetch --help')\n"),
        (["fetch", "x", "INBOX", "--raw", "--headers"], "postern fetch: --headers cannot be combined with another of --headers, --structure, --raw, --part (try 'postern fetch --help')\n"),
        (["fetch", "x", "INBOX", "--uid", "1:x"], None),
        (["append", "x", "INBOX", "f", "--flags", "\\Seen (x"], "postern append: --flags: '(x' is not an IMAP flag (try 'postern append --help')\n"),
        (["append", "x", "INBOX", "f", "--date", "yesterday"], "postern append: --date: 'yesterday' is neither an RFC 5322 date (Wed, 25 Nov 2026 16:21:03 +0000) nor an IMAP one (25-Nov-2026 16:21:03 +0000) (try 'postern append --help')\n"),
        (["append", "x", "INBOX"], "postern append: missing FILE ('-' for stdin) (try 'postern append --help')\n"),
    ]
    for args, want in cases:
        rc, out, err = Env().run(args)
        eq(rc, 2, "status of %r" % args)
        if want is None:
            check(err.startswith("postern fetch: --uid: "), "uid error %r" % err)
        else:
            eq(err, want, repr(args))


@test
def help_texts():
    for cmd in ("ls", "fetch", "append", "accounts"):
        rc, out, err = Env().run([cmd, "--help"])
        eq(rc, 0, cmd)
        check(out.startswith("usage: postern " + cmd), cmd + ": " + out[:40])
    rc, out, err = Env().run(["--help"])
    for cmd in ("ls", "fetch", "append", "accounts"):
        check(("\n  %s " % cmd) in out, "postern --help names " + cmd)


# ---- password sources against the scripted server ---------------------------------

def with_server(fn, caps=None):
    srv = FakeServer(caps)
    try:
        return fn(srv)
    finally:
        srv.close()


@test
def password_command_argv_reaches_server():
    def body(srv):
        script = ("import json, sys; print(json.dumps(sys.argv[1:]))")
        e = Env(account(srv.port, "password_command = python3 -c '%s' \"a b\" c\\ d 'e\"f'\n" % script))
        rc, out, err = e.run(["ls", "fake"])
        eq((rc, err), (0, ""), "status")
        eq(out, "INBOX\n", "listing")
        eq(srv.creds, [("alice", json.dumps(["a b", "c d", 'e"f']))], "credentials")
    with_server(body)


@test
def password_command_failure():
    def body(srv):
        e = Env(account(srv.port, "password_command = false\n"))
        rc, out, err = e.run(["ls", "fake"])
        eq(rc, 1, "status")
        eq(err, "postern ls: password_command 'false' exited with status 1\n", "error")
        eq(srv.creds, [], "nothing sent")
    with_server(body)


@test
def url_borrows_account_password():
    def body(srv):
        e = Env(account(srv.port, "password_command = echo from-account\n"))
        rc, out, err = e.run(["ls", "imap://alice@127.0.0.1:%d/" % srv.port])
        eq((rc, err), (0, ""), "status")
        eq(srv.creds, [("alice", "from-account")], "credentials")
    with_server(body)


@test
def netrc_password():
    def body(srv):
        e = Env(account(srv.port, "netrc = yes\n"))
        with open(os.path.join(e.dir, ".netrc"), "w") as f:
            f.write("machine other login alice password wrong\n"
                    "machine 127.0.0.1 login bob password nope\n"
                    "machine 127.0.0.1\n  login alice\n  password from-netrc\n")
        rc, out, err = e.run(["ls", "fake"])
        eq((rc, err), (0, ""), "status")
        eq(srv.creds, [("alice", "from-netrc")], "credentials")
    with_server(body)


@test
def no_prompt_without_a_terminal():
    def body(srv):
        e = Env(account(srv.port))
        rc, out, err = e.run(["ls", "fake"], new_session=True)
        eq(rc, 1, "status")
        eq(err, "postern ls: no password for alice at 127.0.0.1:%d: no terminal to ask for "
           "the password on (set password_command or netrc = yes in an account; see "
           "postern-config(5))\n" % srv.port, "error")
        eq(srv.creds, [], "nothing sent")
    with_server(body)


def run_on_tty(args, env, answer):
    """Run with a new controlling terminal; type answer at the prompt."""
    master, slave = pty.openpty()

    def child_setup():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    p = subprocess.Popen([POSTERN] + args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, preexec_fn=child_setup, pass_fds=(slave,))
    os.close(slave)
    seen = b""
    deadline = time.time() + 20
    sent = False
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not sent and b"Password for" in seen:
            os.write(master, answer + b"\n")
            sent = True
        if p.poll() is not None:
            break
    out, err = p.communicate(timeout=20)
    os.close(master)
    return p.returncode, seen, out.decode(), err.decode()


@test
def prompt_on_the_terminal_without_echo():
    def body(srv):
        e = Env(account(srv.port))
        rc, seen, out, err = run_on_tty(["ls", "fake"], e.env, b"typed-secret")
        eq((rc, err), (0, ""), "status")
        check(b"Password for alice at 127.0.0.1:%d: " % srv.port in seen, "prompt: %r" % seen)
        check(b"typed-secret" not in seen, "password echoed: %r" % seen)
        eq(srv.creds, [("alice", "typed-secret")], "credentials")
    with_server(body)


@test
def preauth_tunnel_needs_no_password():
    e = Env()
    marker = os.path.join(e.dir, "ran")
    script = os.path.join(e.dir, "preauth.py")
    with open(script, "w") as f:
        f.write("import sys\n"
                "w = sys.stdout.buffer\n"
                "w.write(b'* PREAUTH [CAPABILITY IMAP4rev1] hi\\r\\n'); w.flush()\n"
                "for line in sys.stdin.buffer:\n"
                "    tag, cmd = line.split(b' ')[:2]\n"
                "    cmd = cmd.strip().upper()\n"
                "    if cmd == b'LIST':\n"
                "        w.write(b'* LIST () \"/\" INBOX\\r\\n')\n"
                "    if cmd == b'LOGOUT':\n"
                "        w.write(b'* BYE\\r\\n' + tag + b' OK\\r\\n'); w.flush(); break\n"
                "    w.write(tag + b' OK done\\r\\n'); w.flush()\n")
    with open(e.path, "w") as f:
        f.write("[account t]\ntunnel = python3 %s\npassword_command = touch %s\n" % (script, marker))
    os.chmod(e.path, 0o600)
    rc, out, err = e.run(["ls", "t"])
    eq((rc, err), (0, ""), "status")
    eq(out, "INBOX\n", "listing")
    check(not os.path.exists(marker), "password_command ran for a PREAUTH tunnel")
    rc, out, err = e.run(["ls", "--tunnel", "python3 " + script])
    eq((rc, out, err), (0, "INBOX\n", ""), "--tunnel")


@test
def append_respects_appendlimit():
    def body(srv):
        e = Env(account(srv.port, "password_command = echo pw\n"))
        small = os.path.join(e.dir, "small.eml")
        big = os.path.join(e.dir, "big.eml")
        with open(small, "wb") as f:
            f.write(b"Subject: s\r\n\r\nx\r\n")
        with open(big, "wb") as f:
            f.write(b"Subject: b\r\n\r\n" + b"y" * 200 + b"\r\n")
        rc, out, err = e.run(["append", "fake", "INBOX", small, big])
        eq(rc, 1, "status")
        eq(err, "postern append: %s: 216 bytes is more than the server's APPENDLIMIT of "
           "100 bytes\npostern append: nothing appended\n" % big, "error")
        check(not any(b"APPEND" in l.upper() for l in srv.lines), "APPEND sent: %r" % srv.lines)
    with_server(body, "IMAP4rev1 AUTH=PLAIN APPENDLIMIT=100")


@test
def trace_file_is_private_and_redacted():
    def body(srv):
        e = Env(account(srv.port, "password_command = echo trace-secret\n"))
        trace = os.path.join(e.dir, "trace.log")
        rc, out, err = e.run(["ls", "fake", "--trace", trace])
        eq((rc, err), (0, ""), "status")
        st = os.stat(trace)
        eq(stat.S_IMODE(st.st_mode), 0o600, "mode")
        text = open(trace, "rb").read()
        check(b"LIST" in text, "trace has the conversation")
        check(b"trace-secret" not in text and base64.b64encode(b"\0alice\0trace-secret") not in text,
              "secret in trace")
        e.env["POSTERN_TRACE"] = trace + "2"
        rc, out, err = e.run(["ls", "fake"])
        eq(rc, 0, "env status")
        check(os.path.exists(trace + "2"), "POSTERN_TRACE honoured")
    with_server(body)


def main():
    if not os.access(POSTERN, os.X_OK):
        print("1..1")
        print("not ok 1 - postern binary not found at %s (set $POSTERN)" % POSTERN)
        return 1
    print("1..%d" % len(results))
    failed = 0
    for i, fn in enumerate(results, 1):
        try:
            fn()
            print("ok %d - %s" % (i, fn.__name__))
        except Exception as e:  # noqa: BLE001 - report any failure as TAP
            failed += 1
            print("not ok %d - %s" % (i, fn.__name__))
            for line in (str(e) if isinstance(e, Fail) else traceback.format_exc()).splitlines():
                print("# " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
