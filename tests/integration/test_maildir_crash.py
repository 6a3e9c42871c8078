#!/usr/bin/env python3
"""Crash safety of maildir/: SIGKILL in the middle of appends, flag
changes, moves and expunges, then check with Dovecot (TAP).

A Dovecot from the harness (dovecot.py) serves alice's Maildir; the
driver tests/maildir/md_torture.c (built here with cc against the
maildir and lib archives) works on the same Maildir, INBOX and the folder
Torture, and is killed with SIGKILL at a random moment.  After every kill
the test checks, over IMAP (imaplib), on the files themselves and through
`md_torture list`:

  - every message whose append completed is there exactly once with its
    bytes (RFC822.SIZE, BODY[], S= and W= in the name); one in flight is
    there whole or not at all; no file in cur/ or new/ is half-written
    (tmp/ may keep leftovers: Maildir rules);
  - a completed move left the message in the destination only; one in
    flight left it in the source, in both (copy then expunge is two
    steps in the contract) or in the destination, never nowhere;
  - a completed expunge removed the message; flags and keywords are the
    old set or the new set, never anything else;
  - the uidlist is valid: Dovecot SELECTs the folder, UIDs are unique,
    the same on a second connection and the same as md_torture's, an
    existing message never changes UID, UIDVALIDITY never changes, and
    Dovecot logs no error or warning.

The messages carry their own description (X-Torture: ID NLINES), so any
file found anywhere can be rebuilt and compared byte for byte.

This file also holds the helpers that test_maildir_concurrency.py and
test_maildir_mua.py import (building md_torture, generating messages,
reading folders through IMAP, md_torture list and the files, TAP).

Time: CRASH_SECONDS (default 60) of kill iterations.  When something
needed is missing (maildir/*.c, a C compiler, Dovecot) every test fails
saying why.
"""

import glob
import imaplib
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

TORTURE_SRC = os.path.join(REPO, "tests", "maildir", "md_torture.c")
FOLDERS = ("INBOX", "Torture")
KEYWORDS = ("Work", "Later", "Todo", "$Label1")
IMAP_FLAGS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R",
              "\\Seen": "S", "\\Deleted": "T"}
LETTER_FLAGS = {v: k for k, v in IMAP_FLAGS.items()}
IMAP_TIMEOUT = 30


from clitest import Fail, check, eq  # noqa: E402,F401 - shared checks


# ---- messages ------------------------------------------------------------

def gen_message(ident, nlines):
    """The bytes md_torture's gen_message() writes, LF line ends."""
    out = ["From: Torture <torture@example.org>\n"
           "To: alice@example.org\n"
           "Subject: torture %s\n"
           "Date: Thu, 01 Jan 2026 00:00:00 +0000\n"
           "Message-ID: <%s@torture.invalid>\n"
           "X-Torture: %s %u\n"
           "\n" % (ident, ident, ident, nlines)]
    for k in range(nlines):
        pat = "".join(chr(ord("a") + (k + j) % 26) for j in range(40))
        out.append("%s line %u %s\n" % (ident, k, pat))
    return "".join(out).encode()


def crlf(b):
    return b.replace(b"\n", b"\r\n")


def fnv64(b):
    h = 0xcbf29ce484222325
    for c in b:
        h ^= c
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


_XT = re.compile(rb"\nX-Torture: (\S+) (\d+)\r?\n")


def identify(data, where):
    """(id, expected LF bytes) of a torture message, or Fail naming
    where when the bytes are not a whole torture message."""
    m = _XT.search(data[:4096])
    if not m:
        raise Fail("%s: no X-Torture header (half-written or foreign "
                   "message?), %d bytes: %r" % (where, len(data),
                                                data[:120]))
    ident = m.group(1).decode()
    want = gen_message(ident, int(m.group(2)))
    got = data.replace(b"\r\n", b"\n")
    if got != want:
        n = next((i for i in range(min(len(got), len(want)))
                  if got[i] != want[i]), min(len(got), len(want)))
        raise Fail("%s: message %s is damaged: %d bytes, want %d, first "
                   "difference at byte %d" % (where, ident, len(got),
                                              len(want), n))
    return ident, want


# ---- building md_torture -------------------------------------------------

def build_dir():
    """build, or build-asan when $POSTERN names the ASan build (the
    second `make check` pass runs every script test again)."""
    postern = os.environ.get("POSTERN", "")
    if os.path.basename(os.path.dirname(postern)) == "build-asan":
        return "build-asan", True
    return "build", False


def build_torture(outdir):
    """Compile md_torture into outdir; returns its path or raises Fail
    saying why it cannot be built.  $MD_TORTURE names a prebuilt one
    instead (for debugging the tests themselves)."""
    if os.environ.get("MD_TORTURE"):
        exe = os.path.join(outdir, "md_torture")
        shutil.copy(os.environ["MD_TORTURE"], exe)
        os.chmod(outdir, 0o755)
        os.chmod(exe, 0o755)
        return exe
    if not glob.glob(os.path.join(REPO, "maildir", "*.c")):
        raise Fail("maildir/*.c does not exist yet: nothing to test")
    build, san = build_dir()
    make = ["make", "-C", REPO, "--no-print-directory", "BUILD=" + build]
    if san:
        make += ["SAN=1", "OPT=-O1 -g"]
    make += [build + "/libmaildir.a", build + "/libpn.a"]
    env = dict(os.environ)
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    env.pop("MAKELEVEL", None)
    p = subprocess.run(make, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=env, timeout=300)
    if p.returncode != 0:
        raise Fail("%s failed:\n%s" % (" ".join(make[4:]),
                                       p.stdout.decode(errors="replace")[-3000:]))
    exe = os.path.join(outdir, "md_torture")
    cc = [os.environ.get("CC") or "cc", "-std=c11", "-D_GNU_SOURCE", "-O1",
          "-g", "-Wall", "-Wextra", "-Wformat=2", "-Wshadow",
          "-Wstrict-prototypes"]
    if san:
        cc += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
               "-fno-sanitize-recover=undefined"]
    cc += ["-o", exe, TORTURE_SRC, os.path.join(REPO, build, "libmaildir.a"),
           os.path.join(REPO, build, "libpn.a")]
    p = subprocess.run(cc, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=300)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0 and "undefined reference" in out:
        # maildir/ may use libcrypto or zlib; try the project's libraries
        p = subprocess.run(cc + ["-lcrypto", "-lz"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300)
        out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise Fail("cannot build md_torture (is maildir/ complete?):\n"
                   + out[-3000:])
    if out.strip():
        raise Fail("md_torture builds with warnings:\n" + out[-3000:])
    os.chmod(outdir, 0o755)
    os.chmod(exe, 0o755)
    return exe


# ---- running it as the mail owner ----------------------------------------

class Torture:
    """md_torture, run as the user Dovecot accesses mail as (as root
    that is nobody: files root left behind would be foreign to
    Dovecot)."""

    def __init__(self, exe, uid=None, gid=None):
        self.exe = exe
        self.uid, self.gid = uid, gid

    def _pre(self):
        os.setsid()
        if os.getuid() == 0 and self.uid is not None:
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)

    def popen(self, args):
        return subprocess.Popen([self.exe] + args, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=self._pre)

    def run(self, args, timeout=120):
        p = self.popen(args)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise Fail("md_torture %s: still running after %d s" % (
                " ".join(args), timeout))
        if p.returncode != 0:
            raise Fail("md_torture %s: exit %d: %s" % (
                " ".join(args), p.returncode,
                err.decode(errors="replace").strip()[-2000:]))
        return out.decode(errors="replace")

    def list(self, root, folder):
        """{'uidvalidity', 'uidnext', 'msgs': [dict(uid, flags, kw, size,
        fnv, id, filename)]}"""
        out = self.run(["list", root, folder])
        lines = out.splitlines()
        check(lines and lines[0].startswith("folder "),
              "md_torture list: no header: %r" % out[:200])
        _f, uv, un, n = lines[0].split()
        msgs = []
        for ln in lines[1:]:
            uid, flags, kw, size, h, ident, fname = ln.split(" ", 6)
            msgs.append({"uid": int(uid),
                         "flags": frozenset(flags.replace("-", "")),
                         "kw": frozenset() if kw == "-" else
                         frozenset(kw.split(",")),
                         "size": int(size), "fnv": h, "id": ident,
                         "filename": fname})
        eq(len(msgs), int(n), "md_torture list count")
        return {"uidvalidity": int(uv), "uidnext": int(un), "msgs": msgs}


def run_and_kill(proc, delay):
    """Let proc run for delay seconds, SIGKILL its group, return what it
    printed (complete lines only)."""
    out = b""
    end = time.monotonic() + delay
    fd = proc.stdout.fileno()
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _w, _x = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    rest, err = proc.communicate()
    out += rest
    lines = out.decode(errors="replace").split("\n")
    return lines[:-1], proc.returncode, err.decode(errors="replace")


# ---- Dovecot ---------------------------------------------------------------

def folder_dir(info, folder, user="alice"):
    root = os.path.join(info["mail_root"], user)
    return root if folder == "INBOX" else os.path.join(root, "." + folder)


def imap_login(info, user="alice"):
    c = imaplib.IMAP4(info["host"], info["imap_port"], timeout=IMAP_TIMEOUT)
    c.login(user, info["users"][user])
    return c


def _lock_note(info, folder):
    lock = os.path.join(folder_dir(info, folder), "dovecot-uidlist.lock")
    try:
        with open(lock, "rb") as f:
            return " (dovecot-uidlist.lock is there, content %r)" % f.read(80)
    except OSError:
        return ""


_FETCH = re.compile(rb"UID (\d+)|FLAGS \(([^)]*)\)|RFC822\.SIZE (\d+)")


def _fetch_items(prefix):
    uid = size = None
    flags = None
    for m in _FETCH.finditer(prefix):
        if m.group(1):
            uid = int(m.group(1))
        elif m.group(3):
            size = int(m.group(3))
        else:
            flags = m.group(2).decode().split()
    return uid, flags, size


def split_flags(flags):
    """IMAP flags -> (maildir letters, keywords); \\Recent dropped."""
    letters, kws = set(), set()
    for f in flags:
        if f == "\\Recent":
            continue
        if f in IMAP_FLAGS:
            letters.add(IMAP_FLAGS[f])
        elif f.startswith("\\"):
            raise Fail("unexpected system flag %s" % f)
        else:
            kws.add(f)
    return frozenset(letters), frozenset(kws)


def imap_view(info, folder, bodies=True):
    """Dovecot's view of folder: {'uidvalidity', 'msgs': {uid: dict(id,
    flags, kw, size)}}, checking every body and size on the way."""
    try:
        c = imap_login(info)
    except Exception as e:
        raise Fail("IMAP login: %s%s" % (e, _lock_note(info, folder)))
    try:
        try:
            typ, data = c.select(folder, readonly=True)
        except Exception as e:
            raise Fail("SELECT %s: %s%s" % (folder, e,
                                            _lock_note(info, folder)))
        eq(typ, "OK", "SELECT %s: %r" % (folder, data))
        uv = int(c.response("UIDVALIDITY")[1][0])
        n = int(data[0])
        msgs = {}
        if n == 0:
            return {"uidvalidity": uv, "msgs": msgs}
        item = "BODY.PEEK[]" if bodies else \
            "BODY.PEEK[HEADER.FIELDS (X-TORTURE)]"
        try:
            typ, data = c.uid("FETCH", "1:*",
                              "(UID FLAGS RFC822.SIZE %s)" % item)
        except Exception as e:
            raise Fail("UID FETCH in %s: %s%s" % (folder, e,
                                                  _lock_note(info, folder)))
        eq(typ, "OK", "UID FETCH %s" % folder)
        for d in data:
            if not isinstance(d, tuple):
                continue
            uid, flags, size = _fetch_items(d[0])
            check(uid is not None and flags is not None and size is not None,
                  "FETCH response without UID/FLAGS/RFC822.SIZE: %r" % d[0])
            check(uid not in msgs, "%s: UID %d appears twice in FETCH"
                  % (folder, uid))
            where = "%s UID %d (IMAP)" % (folder, uid)
            if bodies:
                ident, want = identify(d[1], where)
                eq(size, len(crlf(want)), where + " RFC822.SIZE")
                eq(d[1], crlf(want), where + " BODY[]")
            else:
                m = re.search(rb"X-Torture: (\S+)", d[1])
                check(m, where + ": no X-Torture header")
                ident = m.group(1).decode()
            letters, kws = split_flags(flags)
            msgs[uid] = {"id": ident, "flags": letters, "kw": kws,
                         "size": size}
        eq(len(msgs), n, "%s: messages FETCHed vs EXISTS" % folder)
        return {"uidvalidity": uv, "msgs": msgs}
    finally:
        try:
            c.logout()
        except Exception:
            pass


_NAME = re.compile(r"^([^:,]+)((?:,[A-Za-z]=\d+)*)(?::2,([A-Za-z]*))?$")


def scan_files(info, folder):
    """Every file in cur/ and new/: {id: [(where, path), ...]}, each
    checked whole (bytes, S=, W=)."""
    d = folder_dir(info, folder)
    ids = {}
    for sub in ("cur", "new"):
        for fn in sorted(os.listdir(os.path.join(d, sub))):
            where = "%s/%s/%s" % (folder, sub, fn)
            with open(os.path.join(d, sub, fn), "rb") as f:
                data = f.read()
            ident, want = identify(data, where)
            m = _NAME.match(fn)
            check(m, where + ": not a Maildir name")
            fields = dict(x.split("=") for x in m.group(2).split(",")[1:])
            if "S" in fields:
                eq(int(fields["S"]), len(want), where + " S=")
            if "W" in fields:
                eq(int(fields["W"]), len(crlf(want)), where + " W=")
            ids.setdefault(ident, []).append(
                (where, os.path.join(d, sub, fn)))
    return ids


def check_uidlist(info, folder, uidvalidity):
    """dovecot-uidlist is whole and sane: a version 3 header with this
    UIDVALIDITY, a next UID and a 128-bit GUID, then records with rising
    UIDs below it (Dovecot may append records without raising N in the
    header, so N is only checked against the ones before), one per file
    name."""
    path = os.path.join(folder_dir(info, folder), "dovecot-uidlist")
    with open(path, "rb") as f:
        text = f.read().decode(errors="replace")
    check(text.endswith("\n"), "%s: dovecot-uidlist does not end with a "
          "newline (cut short?)" % folder)
    lines = text.split("\n")[:-1]
    hdr = lines[0].split()
    fields = {h[0]: h[1:] for h in hdr[1:]}
    check(hdr[0] == "3" and "V" in fields and "N" in fields,
          "%s: dovecot-uidlist header %r" % (folder, lines[0]))
    eq(int(fields["V"]), uidvalidity, "%s: dovecot-uidlist V" % folder)
    check(re.match(r"^[0-9a-f]{32}$", fields.get("G", "")),
          "%s: dovecot-uidlist G is not 128 bits of hex: %r" % (folder,
                                                               lines[0]))
    last, keys = 0, set()
    for n, ln in enumerate(lines[1:], 2):
        m = re.match(r"^(\d+)(?: [^:][^ ]*)* :(\S+)$", ln)
        check(m, "%s: dovecot-uidlist line %d: %r" % (folder, n, ln))
        uid = int(m.group(1))
        check(uid > last, "%s: dovecot-uidlist line %d: UID %d after %d"
              % (folder, n, uid, last))
        check(m.group(2) not in keys, "%s: dovecot-uidlist line %d: %s "
              "listed twice" % (folder, n, m.group(2)))
        last = uid
        keys.add(m.group(2))


def check_keywords(info, folder):
    """dovecot-keywords, when there is one, is whole: "INDEX NAME" lines,
    indexes 0-25, no index or name twice, and only the torture's
    keywords."""
    path = os.path.join(folder_dir(info, folder), "dovecot-keywords")
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        text = f.read().decode(errors="replace")
    check(text == "" or text.endswith("\n"), "%s: dovecot-keywords does "
          "not end with a newline (cut short?)" % folder)
    idx, names = set(), set()
    for ln in text.splitlines():
        m = re.match(r"^(\d+) (\S+)$", ln)
        check(m and int(m.group(1)) < 26 and m.group(2) in KEYWORDS,
              "%s: dovecot-keywords line %r" % (folder, ln))
        check(m.group(1) not in idx and m.group(2) not in names,
              "%s: dovecot-keywords lists %r twice" % (folder, ln))
        idx.add(m.group(1))
        names.add(m.group(2))


def dovecot_log_problems(info, offset):
    """(new offset, lines with Error/Warning/Panic/Fatal since offset)"""
    try:
        with open(info["log"], "rb") as f:
            f.seek(offset)
            text = f.read()
    except OSError:
        return offset, []
    bad = [ln for ln in text.decode(errors="replace").splitlines()
           if re.search(r"\b(Error|Warning|Panic|Fatal)\b", ln)]
    return offset + len(text), bad


def imap_create(info, folder):
    c = imap_login(info)
    try:
        typ, data = c.create(folder)
        check(typ == "OK" or b"ALREADYEXISTS" in b"".join(data),
              "CREATE %s: %r" % (folder, data))
    finally:
        c.logout()


# ---- TAP -------------------------------------------------------------------

def tap(tests, setup, teardown):
    """Run tests (a list of functions) as TAP; setup() returns why it
    failed or None.  Returns the exit code."""
    print("1..%d" % len(tests))
    sys.stdout.flush()
    why = None
    try:
        why = setup()
    except Fail as e:
        why = str(e)
    except Exception:  # noqa: BLE001 - a broken setup fails every test
        why = traceback.format_exc()
    failed = 0
    try:
        for i, fn in enumerate(tests, 1):
            if why:
                failed += 1
                print("not ok %d - %s" % (i, fn.__name__))
                for ln in why.splitlines():
                    print("# " + ln)
                sys.stdout.flush()
                continue
            try:
                fn()
                print("ok %d - %s" % (i, fn.__name__))
            except Exception as e:  # noqa: BLE001
                failed += 1
                print("not ok %d - %s" % (i, fn.__name__))
                text = str(e) if isinstance(e, Fail) else \
                    traceback.format_exc()
                for ln in text.splitlines():
                    print("# " + ln)
            sys.stdout.flush()
    finally:
        teardown()
    return 1 if failed else 0


def start_dovecot(tmp):
    import dovecot
    try:
        return dovecot.start(os.path.join(tmp, "dovecot"))
    except dovecot.HarnessError as e:
        raise Fail("cannot start Dovecot: %s" % e)


def stop_dovecot(tmp):
    import dovecot
    dovecot.stop(os.path.join(tmp, "dovecot"))


# ---- the crash test ----------------------------------------------------------

CTX = {}
SECONDS = float(os.environ.get("CRASH_SECONDS", "60"))
MAX_MESSAGES = 120	# per folder, so a check stays quick


class Model:
    """What the last check established: {folder: {id: [uid, flags, kw]}},
    plus UIDVALIDITY and the highest UID seen per folder."""

    def __init__(self):
        self.folders = {f: {} for f in FOLDERS}
        self.uidvalidity = {}
        self.maxuid = {f: 0 for f in FOLDERS}

    def by_uid(self, folder, uid):
        for ident, st in self.folders[folder].items():
            if st[0] == uid:
                return ident
        raise Fail("%s: md_torture used UID %d, which the model does not "
                   "know" % (folder, uid))


def apply_change(state, changes):
    flags, kw = set(state[1]), set(state[2])
    if changes == "none":
        return frozenset(flags), frozenset(kw)
    for c in changes.split(","):
        on = c[0] == "+"
        if c[1:].startswith("kw:"):
            (kw.add if on else kw.discard)(c[4:])
        else:
            (flags.add if on else flags.discard)(c[1])
    return frozenset(flags), frozenset(kw)


def letters(s):
    return frozenset(s.replace("-", ""))


def kwset(s):
    return frozenset() if s == "-" else frozenset(s.split(","))


def expectations(model, op, folder, dst, lines):
    """From the previous state and what md_torture printed: for each
    (folder, id) the allowed states, a list of None (absent) or
    (uid or None, flags, kw) (flags None: any).  Also checks md_torture's
    own reports."""
    allowed = {}
    for f in FOLDERS:
        for ident, st in model.folders[f].items():
            allowed[(f, ident)] = [tuple(st)]
    pending = None
    for ln in lines:
        w = ln.split()
        if not w:
            continue
        if w[0] == "try":
            pending = w
            if w[1] == "append":
                allowed[(folder, w[2])] = [None, (None, None, None)]
            elif w[1] == "flags":
                ident = model.by_uid(folder, int(w[2]))
                old = model.folders[folder][ident]
                new = apply_change(old, w[3])
                allowed[(folder, ident)] = [tuple(old), (old[0],) + new]
            elif w[1] == "move":
                ident = model.by_uid(folder, int(w[2]))
                old = model.folders[folder][ident]
                allowed[(folder, ident)] = [tuple(old), None]
                allowed[(dst, ident)] = [None, (None, old[1], old[2])]
                allowed[("moved", ident)] = [folder, dst]
                pending = w + [ident]
            elif w[1] == "expunge":
                ident = model.by_uid(folder, int(w[2]))
                allowed[(folder, ident)] = [tuple(model.folders[folder][ident]),
                                            None]
            continue
        check(pending, "md_torture printed %r before any try" % ln)
        if w[0] == "ok" and w[1] == "append":
            _ok, _a, ident, uid, size, fl, kw = w
            allowed[(folder, ident)] = [(int(uid), letters(fl), kwset(kw))]
            model.folders[folder][ident] = [int(uid), letters(fl), kwset(kw)]
        elif w[0] == "ok" and w[1] == "flags":
            ident = model.by_uid(folder, int(w[2]))
            new = apply_change(model.folders[folder][ident], pending[3])
            eq((letters(w[3]), kwset(w[4])), new,
               "md_torture's state after 'try flags %s %s'" % (w[2],
                                                               pending[3]))
            model.folders[folder][ident] = [int(w[2])] + list(new)
            allowed[(folder, ident)] = [(int(w[2]),) + new]
        elif w[0] == "copied":
            ident = pending[3]
            old = model.folders[folder][ident]
            allowed[(dst, ident)] = [(int(w[2]), old[1], old[2])]
            continue
        elif w[0] == "ok" and w[1] == "move":
            ident = pending[3]
            old = model.folders[folder].pop(ident)
            allowed[(folder, ident)] = [None]
            model.folders[dst][ident] = [int(w[3]), old[1], old[2]]
            allowed[(dst, ident)] = [(int(w[3]), old[1], old[2])]
        elif w[0] == "ok" and w[1] == "expunge":
            ident = model.by_uid(folder, int(w[2]))
            model.folders[folder].pop(ident)
            allowed[(folder, ident)] = [None]
        else:
            raise Fail("md_torture printed %r" % ln)
        pending = None
    return allowed


def matches(state, want):
    if want is None:
        return state is None
    if state is None:
        return False
    uid, fl, kw = want
    return (uid is None or uid == state[0]) and \
        (fl is None or fl == state[1]) and (kw is None or kw == state[2])


_DIGESTS = {}


def digest(ident, where):
    """(size, FNV-1a hex) of the message ident, rebuilt from its
    X-Torture header (the file was checked whole by scan_files)."""
    if ident not in _DIGESTS:
        with open(where[0][1], "rb") as f:
            _i, want = identify(f.read(), where[0][0])
        _DIGESTS[ident] = (len(want), fnv64(want))
    return _DIGESTS[ident]


def observe(model):
    """Read every folder three ways, check they agree, return
    {folder: {id: (uid, flags, kw)}}."""
    info, t = CTX["info"], CTX["torture"]
    seen = {}
    for f in FOLDERS:
        files = scan_files(info, f)
        for ident, where in files.items():
            check(len(where) == 1, "%s: message %s is there %d times: %s"
                  % (f, ident, len(where), ", ".join(w for w, _p in where)))
        v = imap_view(info, f)
        v2 = imap_view(info, f, bodies=False)
        uv = model.uidvalidity.setdefault(f, v["uidvalidity"])
        eq(v["uidvalidity"], uv, "%s: UIDVALIDITY changed" % f)
        check_uidlist(info, f, uv)
        check_keywords(info, f)
        eq(v2["uidvalidity"], uv, "%s: UIDVALIDITY on a second SELECT" % f)
        eq({u: m["id"] for u, m in v2["msgs"].items()},
           {u: m["id"] for u, m in v["msgs"].items()},
           "%s: UIDs on a second connection" % f)
        ids = {}
        for uid, m in v["msgs"].items():
            check(m["id"] not in ids, "%s: message %s has UIDs %d and %d"
                  % (f, m["id"], ids.get(m["id"], 0), uid))
            ids[m["id"]] = (uid, m["flags"], m["kw"])
        eq(sorted(ids), sorted(files), "%s: IMAP messages vs files" % f)
        md = t.list(info["mail_root"] + "/alice", f)
        eq(md["uidvalidity"], uv, "%s: md_torture list UIDVALIDITY" % f)
        mdids = {}
        for m in md["msgs"]:
            check(m["id"] not in mdids, "%s: md_torture lists %s twice"
                  % (f, m["id"]))
            check(m["id"] in ids, "%s: md_torture lists %s (UID %d), "
                  "Dovecot does not" % (f, m["id"], m["uid"]))
            size, h = digest(m["id"], files[m["id"]])
            eq((m["size"], m["fnv"]), (size, h),
               "%s: md_torture list: size and FNV-1a of %s (UID %d)"
               % (f, m["id"], m["uid"]))
            mdids[m["id"]] = (m["uid"], m["flags"], m["kw"])
        eq(mdids, ids, "%s: md_torture list vs Dovecot (uid, flags, kw)" % f)
        seen[f] = ids
    return seen


def check_transition(model, allowed, seen, what):
    for f in FOLDERS:
        for ident, st in seen[f].items():
            want = allowed.get((f, ident))
            check(want is not None, "%s: %s appeared in %s from nowhere"
                  % (what, ident, f))
            check(any(matches(st, w) for w in want),
                  "%s: %s in %s is %r, allowed %r" % (what, ident, f, st,
                                                      want))
            prev = model.folders[f].get(ident)
            if prev is None and not any(w is not None and w[0] == st[0]
                                        for w in want):
                check(st[0] > model.maxuid[f],
                      "%s: new message %s in %s got UID %d, not above the "
                      "highest UID seen before (%d)" % (
                          what, ident, f, st[0], model.maxuid[f]))
    for (f, ident), want in allowed.items():
        if f == "moved":
            check(any(ident in seen[g] for g in want),
                  "%s: %s, being moved, is in neither %s nor %s" % (
                      what, ident, want[0], want[1]))
        elif ident not in seen[f]:
            check(None in want, "%s: %s is missing from %s (allowed %r)"
                  % (what, ident, f, want))


def adopt(model, seen):
    for f in FOLDERS:
        model.folders[f] = {i: list(st) for i, st in seen[f].items()}
        if seen[f]:
            model.maxuid[f] = max(model.maxuid[f],
                                  max(st[0] for st in seen[f].values()))


def setup():
    tmp = tempfile.mkdtemp(prefix="postern-md-crash-")
    os.chmod(tmp, 0o755)
    CTX["tmp"] = tmp
    exe = build_torture(tmp)
    info = start_dovecot(tmp)
    CTX["info"] = info
    CTX["torture"] = Torture(exe, info["mail_uid"], info["mail_gid"])
    imap_create(info, "Torture")
    CTX["model"] = Model()
    CTX["log_offset"] = 0
    CTX["findings"] = []
    return None


def teardown():
    if "info" in CTX:
        stop_dovecot(CTX["tmp"])
    if "tmp" in CTX:
        shutil.rmtree(CTX["tmp"], ignore_errors=True)


def check_log(what):
    CTX["log_offset"], bad = dovecot_log_problems(CTX["info"],
                                                  CTX["log_offset"])
    check(not bad, "%s: Dovecot logged:\n%s" % (what, "\n".join(bad[:20])))


def test_baseline():
    """Uninterrupted appends into both folders: Dovecot, the files and
    md_torture agree."""
    t, info, model = CTX["torture"], CTX["info"], CTX["model"]
    root = info["mail_root"] + "/alice"
    observe(model)  # the empty folders get their uidlist from Dovecot
    for f in FOLDERS:
        out = t.run(["-s", "1", "append", root, f, "12", "base" + f[0]])
        lines = out.splitlines()
        allowed = expectations(model, "append", f, None, lines)
        eq(sum(1 for ln in lines if ln.startswith("ok append")), 12,
           "completed appends")
        seen = observe(model)
        check_transition(model, allowed, seen, "baseline " + f)
        adopt(model, seen)
    check_log("baseline")


def stale_locks(what):
    """A dovecot-uidlist.lock left by the killed md_torture must say
    whose it is ("PID:HOST", as Dovecot's dotlocks do), so that Dovecot
    sees its owner is dead and takes it over within seconds.  Anything
    else makes Dovecot wait for its 120 s stale timeout: recorded as a
    finding, and the lock removed (what that timeout would do) so the
    other checks go on."""
    for f in FOLDERS:
        lock = os.path.join(folder_dir(CTX["info"], f), "dovecot-uidlist.lock")
        try:
            with open(lock, "rb") as fh:
                content = fh.read(200)
        except FileNotFoundError:
            continue
        if re.match(rb"^\d+:[^\n]+", content):
            continue
        CTX["findings"].append(
            "%s: the killed md_torture left %s/dovecot-uidlist.lock holding "
            "%r, not 'PID:HOST', so Dovecot cannot tell its owner is dead "
            "and blocks SELECT until its 120 s stale timeout" % (
                what, f, content[:60]))
        os.unlink(lock)


def finish_moves(model, allowed, seen, what):
    """A move killed between copy and expunge leaves the message in both
    folders (allowed: the contract has no atomic move).  Finish it the
    way a client would, expunging the source copy through Dovecot, so
    that every message stays in one folder once; check the result."""
    left = [(k[1], v[0]) for k, v in allowed.items()
            if k[0] == "moved" and all(k[1] in seen[g] for g in v)]
    if not left:
        return seen
    c = imap_login(CTX["info"])
    try:
        for ident, src in left:
            uid = seen[src][ident][0]
            typ, data = c.select(src)
            eq(typ, "OK", "SELECT %s" % src)
            typ, data = c.uid("STORE", str(uid), "+FLAGS.SILENT",
                              "(\\Deleted)")
            eq(typ, "OK", "UID STORE %d +FLAGS (\\Deleted) in %s: %r"
               % (uid, src, data))
            typ, data = c.uid("EXPUNGE", str(uid))
            eq(typ, "OK", "UID EXPUNGE %d in %s: %r" % (uid, src, data))
            c.close()
    finally:
        c.logout()
    want = {f: dict(seen[f]) for f in FOLDERS}
    for ident, src in left:
        del want[src][ident]
    again = observe(model)
    eq(again, want, "%s: after Dovecot expunged the source copies of "
       "interrupted moves %s" % (what, left))
    return again


def one_round(i, rng):
    t, info, model = CTX["torture"], CTX["info"], CTX["model"]
    root = info["mail_root"] + "/alice"
    f = rng.choice(FOLDERS)
    other = FOLDERS[1] if f == FOLDERS[0] else FOLDERS[0]
    n = len(model.folders[f])
    ops = ["append", "flags", "move", "expunge"]
    weights = [3, 3, 2, 1] if n < MAX_MESSAGES else [0, 3, 2, 4]
    if n == 0:
        weights = [1, 0, 0, 0]
    op = rng.choices(ops, weights)[0]
    seed = str(1000 + i)
    args = ["-s", seed, op, root, f]
    # enough work that the kill usually lands in the middle of it
    if op == "append":
        args += ["60", "r%d" % i]
    elif op == "move":
        args = ["-s", seed, op, root, f, other, "30"]
    elif op == "flags":
        args += ["100"]
    else:
        args += ["30"]
    proc = t.popen(args)
    delay = rng.choice([0.0, 0.001, 0.003, 0.006, 0.01, 0.02, 0.04,
                        rng.uniform(0, 0.15)])
    lines, rc, err = run_and_kill(proc, delay)
    what = "round %d (md_torture %s, killed after %.3f s)" % (
        i, " ".join(args), delay)
    check(rc in (0, -signal.SIGKILL), "%s: md_torture exit %s: %s" % (
        what, rc, err.strip()[-1500:]))
    allowed = expectations(model, op, f, other, lines)
    stale_locks(what)
    seen = observe(model)
    check_transition(model, allowed, seen, what)
    seen = finish_moves(model, allowed, seen, what)
    adopt(model, seen)
    check_log(what)
    return op, sum(1 for ln in lines if ln.startswith("ok ")), \
        lines and lines[-1].startswith("try")


def test_kill_rounds():
    """SIGKILL at random moments for CRASH_SECONDS; check after each."""
    seed = int(os.environ.get("CRASH_SEED", "0")) or int(time.time())
    print("# CRASH_SEED=%d" % seed)
    rng = random.Random(seed)
    end = time.monotonic() + SECONDS
    i = 0
    stats = {}
    inflight = 0
    while time.monotonic() < end:
        op, done, mid = one_round(i, rng)
        s = stats.setdefault(op, [0, 0])
        s[0] += 1
        s[1] += done
        inflight += bool(mid)
        i += 1
    print("# %d rounds, %d killed mid-operation; per op (rounds, "
          "operations completed): %s" % (i, inflight, stats))
    found = CTX["findings"]
    check(not found, "%d round(s) left a lock Dovecot cannot recover from "
          "in time; the first:\n%s" % (len(found), found[0] if found else ""))
    check(i >= 10, "only %d rounds in %d s" % (i, SECONDS))


def test_writers_proceed_after_kills():
    """After the last kill, md_torture and Dovecot can both still write
    every folder (a lock a killed writer left must not block them);
    tmp/ leftovers are counted, as the Maildir rules allow them."""
    t, info, model = CTX["torture"], CTX["info"], CTX["model"]
    root = info["mail_root"] + "/alice"
    for f in FOLDERS:
        d = folder_dir(info, f)
        lock = os.path.join(d, "dovecot-uidlist.lock")
        if os.path.exists(lock):
            with open(lock, "rb") as fh:
                print("# %s: dovecot-uidlist.lock left behind: %r" % (
                    f, fh.read(80)))
        print("# %s: %d file(s) left in tmp/" % (
            f, len(os.listdir(os.path.join(d, "tmp")))))
        out = t.run(["-s", "7", "append", root, f, "1", "final" + f[0]],
                    timeout=30)
        allowed = expectations(model, "append", f, None, out.splitlines())
        c = imap_login(info)
        try:
            typ, data = c.append(f, None, None, crlf(gen_message(
                "imapfinal" + f[0], 3)))
            eq(typ, "OK", "IMAP APPEND to %s after the kills: %r" % (f, data))
        finally:
            c.logout()
        allowed[(f, "imapfinal" + f[0])] = [(None, frozenset(), frozenset())]
        seen = observe(model)
        check_transition(model, allowed, seen, "final appends")
        adopt(model, seen)
    check_log("final appends")


def main():
    return tap([test_baseline, test_kill_rounds,
                test_writers_proceed_after_kills],
               setup, teardown)


if __name__ == "__main__":
    sys.exit(main())
