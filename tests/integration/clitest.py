"""clitest.py - what the script tests of the postern command share.

TAP results and checks, running $POSTERN (default ./build/postern) with
the test's environment, imaplib helpers against the harness's Dovecot,
and the driver: start Dovecot in a temporary directory (dovecot.py) with
a config holding two accounts for alice, "dv" (STARTTLS) and "dvs"
(implicit TLS), both with the test CA and a password_command; run every
test; stop Dovecot by PID in a finally.  When the harness cannot start,
every test fails saying why.

A test file registers its tests with @test, in order, and ends with
    sys.exit(clitest.main("postern-NAME-"))
"""

import base64
import imaplib
import os
import pty
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
POSTERN = os.path.abspath(os.environ.get("POSTERN") or os.path.join(REPO, "build", "postern"))

results = []
CTX = {}

# What a sanitizer prints: an expected exit status must not hide one.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


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


def run(args, stdin=None, timeout=120, new_session=False):
    """postern ARGS: (status, stdout bytes, stderr text).  new_session
    detaches it from the controlling terminal (no /dev/tty either)."""
    p = subprocess.run([POSTERN] + args, input=stdin, env=CTX["env"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, start_new_session=new_session)
    err = p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        if mark in err:
            raise Fail("postern %s: sanitizer: %s" % (" ".join(args), err[-2000:]))
    return p.returncode, p.stdout, err


def ok(args, stdin=None):
    rc, out, err = run(args, stdin)
    if rc != 0:
        raise Fail("postern %s: exit %d: %s" % (" ".join(args), rc, err.strip()))
    return out


def imap(user="alice"):
    """An imaplib connection over implicit TLS."""
    info = CTX["info"]
    ctx = ssl.create_default_context(cafile=info["ca"])
    c = imaplib.IMAP4_SSL(info["host"], info["imaps_port"], ssl_context=ctx)
    c.login(user, info["users"][user])
    return c


def mutf7(name):
    """RFC 3501 5.1.3 modified UTF-7 (for imaplib, which does not)."""
    out, run_ = [], []

    def flush():
        if run_:
            b = "".join(run_).encode("utf-16-be")
            out.append("&" + base64.b64encode(b).decode().rstrip("=").replace("/", ",") + "-")
            run_.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run_.append(ch)
    flush()
    return "".join(out)


def imap_fetch_raw(mailbox, uid, item="BODY.PEEK[]"):
    """What imaplib fetches of one message (read-only)."""
    c = imap()
    try:
        c.select(mailbox, readonly=True)
        typ, data = c.uid("FETCH", str(uid), "(%s)" % item)
        check(typ == "OK", "imaplib FETCH %s" % typ)
        for d in data:
            if isinstance(d, tuple):
                return d[1]
        raise Fail("imaplib: no literal for UID %s in %s: %r" % (uid, mailbox, data))
    finally:
        c.logout()


def imap_append(mailbox, data, flags=None):
    """imaplib's APPEND; the new UID (from APPENDUID)."""
    c = imap()
    try:
        typ, resp = c.append(mailbox, flags, None, data)
        check(typ == "OK", "imaplib APPEND: %r" % resp)
        m = re.search(rb"APPENDUID (\d+) (\d+)", resp[0])
        return int(m.group(2))
    finally:
        c.logout()


APPENDED = re.compile(r"^(.*): appended as UID (\d+) \(UIDVALIDITY (\d+)\)$")


def appended(out):
    """postern append's lines: [(file, uid, uidvalidity)]."""
    rows = []
    for line in out.decode().splitlines():
        m = APPENDED.match(line)
        check(m, "append line %r" % line)
        rows.append((m.group(1), int(m.group(2)), int(m.group(3))))
    return rows


def run_on_tty(args):
    """postern ARGS with stdout on a pseudo-terminal: (status, what the
    terminal got)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([POSTERN] + args, stdout=slave, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=CTX["env"])
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    p.wait(timeout=30)
    os.close(master)
    return p.returncode, seen


def message(subject, body=b"hello\r\n", extra=b""):
    return (b"From: Ann Example <ann@example.org>\r\nTo: bob@example.org\r\n"
            b"Subject: " + subject + b"\r\nDate: Wed, 25 Nov 2026 16:21:03 +0000\r\n"
            b"Message-ID: <" + subject.replace(b" ", b".") + b"@example.org>\r\n" +
            extra + b"\r\n" + body)


ATTACHMENT = bytes(range(256)) * 40


def multipart_parts():
    """(body, headers) of a text part and ATTACHMENT in base64."""
    att = base64.encodebytes(ATTACHMENT).replace(b"\n", b"\r\n")
    body = (b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
            b"--b1\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
            b"Content-Disposition: attachment; filename=\"data.bin\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + att +
            b"--b1--\r\n")
    return body, b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n"


def multipart(subject):
    """A text part and ATTACHMENT in base64."""
    return message(subject, *multipart_parts())


def start(tmp):
    """Dovecot, the config with the dv and dvs accounts, CTX filled."""
    import dovecot  # noqa: E402 - the harness lives next to this file
    info = dovecot.start(os.path.join(tmp, "dovecot"))
    CTX["dovecot"] = dovecot
    CTX["info"] = info
    CTX["tmp"] = tmp
    xdg = os.path.join(tmp, "xdg")
    os.makedirs(os.path.join(xdg, "postern"))
    cfg = os.path.join(xdg, "postern", "config")
    pw = info["users"]["alice"]
    with open(cfg, "w") as f:
        f.write("[account dv]\nhost = %s\nport = %d\ntls = starttls\nuser = alice\n"
                "password_command = echo %s\ncafile = %s\n\n"
                "[account dvs]\nhost = %s\nport = %d\ntls = implicit\nuser = alice\n"
                "password_command = echo %s\ncafile = %s\n"
                % (info["host"], info["imap_port"], pw, info["ca"],
                   info["host"], info["imaps_port"], pw, info["ca"]))
    os.chmod(cfg, 0o600)
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = xdg
    env["HOME"] = tmp
    env.pop("POSTERN_TRACE", None)
    CTX["env"] = env
    return dovecot


def main(prefix, prepare=None):
    """Run every registered test as TAP; prepare() (after Dovecot is up)
    may adjust CTX or fill mailboxes.  The exit status for the runner."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)
    print("1..%d" % len(results))
    harness, why = None, None
    if not os.access(POSTERN, os.X_OK):
        why = "postern binary not found at %s (set $POSTERN)" % POSTERN
    else:
        try:
            harness = start(tmp)
        except Exception as e:  # noqa: BLE001 - any harness failure fails every test
            why = "cannot start Dovecot: %s" % e
        if not why and prepare:
            try:
                prepare()
            except Exception as e:  # noqa: BLE001
                why = "cannot prepare the test: %s" % e
    failed = 0
    try:
        for i, fn in enumerate(results, 1):
            if why:
                failed += 1
                print("not ok %d - %s # %s" % (i, fn.__name__, why))
                continue
            try:
                fn()
                print("ok %d - %s" % (i, fn.__name__))
            except Exception as e:  # noqa: BLE001
                failed += 1
                print("not ok %d - %s" % (i, fn.__name__))
                text = str(e) if isinstance(e, Fail) else traceback.format_exc()
                for line in text.splitlines():
                    print("# " + line)
            sys.stdout.flush()
    finally:
        if harness:
            harness.stop(os.path.join(tmp, "dovecot"))
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0
