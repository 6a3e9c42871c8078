#!/usr/bin/env python3
"""maildir/ and Dovecot writing one Maildir folder at once (TAP).

For CONC_SECONDS (default 20) md_torture (`mixed`: appends and flag
changes) and two imaplib sessions (one APPENDing, one STOREing flags) work
on alice's INBOX while Dovecot serves it.  Each flag has one owner:
md_torture changes only \\Flagged and the keywords Work and Later, IMAP
only \\Seen, \\Answered and the keyword Todo, so the final value of every
flag of every message is known, and a lost update shows.  Afterwards:

  - every message either side appended is there exactly once with its
    bytes, nothing else is; no UID is given to two messages; the UIDs
    md_torture printed and the APPENDUIDs Dovecot returned are the UIDs
    both see;
  - every flag is what its owner last made it;
  - Dovecot's view (a fresh SELECT) and `md_torture list` agree on UIDs,
    flags and keywords, and Dovecot logged no error or warning.

Helpers come from test_maildir_crash.py.  A missing piece (maildir/*.c,
Dovecot) fails every test saying why.
"""

import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_maildir_crash import (  # noqa: E402
    Fail, Torture, build_torture, check, crlf, dovecot_log_problems, eq,
    gen_message, imap_login, imap_view, scan_files,
    start_dovecot, stop_dovecot, tap, digest)

SECONDS = float(os.environ.get("CONC_SECONDS", "20"))
CTX = {}
MD_OWNS = {"F", "kw:Work", "kw:Later"}
IMAP_OWNS = {"S", "R", "kw:Todo"}
SEEDS = 8


def flagset(letters, kws):
    return {l for l in letters} | {"kw:" + k for k in kws}


def setup():
    tmp = tempfile.mkdtemp(prefix="postern-md-conc-")
    os.chmod(tmp, 0o755)
    CTX["tmp"] = tmp
    exe = build_torture(tmp)
    info = start_dovecot(tmp)
    CTX["info"] = info
    CTX["torture"] = Torture(exe, info["mail_uid"], info["mail_gid"])
    return None


def teardown():
    if "info" in CTX:
        stop_dovecot(CTX["tmp"])
    if "tmp" in CTX:
        shutil.rmtree(CTX["tmp"], ignore_errors=True)


_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")


class ImapSide:
    """The Dovecot side: appends in one session, flag stores in another,
    each in its own thread; records what it asked for, in order."""

    def __init__(self, info, seconds, rng_seed):
        self.info = info
        self.end = time.monotonic() + seconds
        self.appended = {}	# id -> (uid, set of owned flags)
        self.stores = []	# (uid, '+' or '-', owned flag)
        self.errors = []
        self.seed = rng_seed
        self.lock = threading.Lock()

    def appender(self):
        rng = random.Random(self.seed)
        try:
            c = imap_login(self.info)
            n = 0
            while time.monotonic() < self.end:
                ident = "d.%d" % n
                n += 1
                owned = {f for f in ("S", "R", "kw:Todo")
                         if rng.random() < 0.4}
                imapf = ["\\Seen" if f == "S" else "\\Answered" if f == "R"
                         else "Todo" for f in sorted(owned)]
                typ, data = c.append("INBOX", "(%s)" % " ".join(imapf),
                                     None, crlf(gen_message(
                                         ident, rng.randint(1, 80))))
                check(typ == "OK", "IMAP APPEND %s: %r" % (ident, data))
                m = _APPENDUID.search(b"".join(
                    d for d in data if isinstance(d, bytes)))
                check(m, "APPEND %s: no APPENDUID in %r" % (ident, data))
                with self.lock:
                    self.appended[ident] = (int(m.group(2)), owned)
                time.sleep(rng.uniform(0, 0.01))
            c.logout()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append("appender: %r" % e)

    def storer(self):
        rng = random.Random(self.seed + 1)
        try:
            c = imap_login(self.info)
            typ, data = c.select("INBOX")
            check(typ == "OK", "SELECT INBOX: %r" % data)
            uids = []
            k = 0
            while time.monotonic() < self.end:
                if k % 10 == 0 or not uids:
                    typ, data = c.uid("SEARCH", "ALL")
                    check(typ == "OK", "UID SEARCH: %r" % data)
                    uids = [int(x) for x in data[0].split()]
                k += 1
                if not uids:
                    time.sleep(0.01)
                    continue
                uid = rng.choice(uids)
                flag = rng.choice(sorted(IMAP_OWNS))
                sign = rng.choice("+-")
                name = {"S": "\\Seen", "R": "\\Answered",
                        "kw:Todo": "Todo"}[flag]
                typ, data = c.uid("STORE", str(uid), sign + "FLAGS.SILENT",
                                  "(%s)" % name)
                check(typ == "OK", "UID STORE %d %sFLAGS (%s): %r" % (
                    uid, sign, name, data))
                with self.lock:
                    self.stores.append((uid, sign, flag))
            c.logout()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append("storer: %r" % e)


def md_expectations(lines):
    """From md_torture's output: {id: uid} of its appends, {uid: set of
    md-owned flags at append}, and the list of (uid, changes)."""
    appended, at_append, changes = {}, {}, []
    pending = None
    for ln in lines:
        w = ln.split()
        if w[0] == "try":
            pending = w
            continue
        if w[:2] == ["ok", "append"]:
            _o, _a, ident, uid, _size, fl, kw = w
            appended[ident] = int(uid)
            at_append[int(uid)] = flagset(fl.replace("-", ""),
                                          [] if kw == "-" else kw.split(","))
        elif w[:2] == ["ok", "flags"]:
            check(pending and pending[1] == "flags" and pending[2] == w[2],
                  "md_torture: %r without its try" % ln)
            changes.append((int(w[2]), pending[3]))
        else:
            raise Fail("md_torture printed %r" % ln)
        pending = None
    check(pending is None, "md_torture ended with %r in flight" % pending)
    return appended, at_append, changes


def test_concurrent_writers():
    t, info = CTX["torture"], CTX["info"]
    root = info["mail_root"] + "/alice"
    seed = int(os.environ.get("CONC_SEED", "0")) or int(time.time())
    print("# seed %d" % seed)
    # a few messages from each side first, so both have targets at once
    out = t.run(["-s", str(seed), "append", root, "INBOX", str(SEEDS),
                 "seed"])
    seeded, seeded_flags, _c = md_expectations(out.splitlines())
    side = ImapSide(info, SECONDS, seed)
    proc = t.popen(["-s", str(seed + 1), "mixed", root, "INBOX",
                    "%d" % SECONDS, "m"])
    threads = [threading.Thread(target=side.appender),
               threading.Thread(target=side.storer)]
    for th in threads:
        th.start()
    try:
        mdout, mderr = proc.communicate(timeout=SECONDS + 60)
    except Exception:
        proc.kill()
        proc.communicate()
        raise Fail("md_torture mixed did not finish within %d s"
                   % (SECONDS + 60))
    for th in threads:
        th.join(SECONDS + 60)
    check(proc.returncode == 0, "md_torture mixed: exit %d: %s" % (
        proc.returncode, mderr.decode(errors="replace")[-2000:]))
    if side.errors:
        _o, bad = dovecot_log_problems(info, 0)
        raise Fail("IMAP side: %s\nDovecot logged:\n%s" % (
            "; ".join(side.errors), "\n".join(bad[:20])))
    appended, at_append, changes = md_expectations(
        mdout.decode(errors="replace").splitlines())
    appended.update(seeded)
    at_append.update(seeded_flags)
    print("# md_torture: %d appends, %d flag changes; IMAP: %d appends, "
          "%d stores" % (len(appended) - len(seeded), len(changes),
                         len(side.appended), len(side.stores)))
    check(len(appended) > len(seeded) and changes and side.appended and
          side.stores, "one side did nothing: no concurrency tested")

    v = imap_view(info, "INBOX")
    byid = {}
    for uid, m in v["msgs"].items():
        check(m["id"] not in byid, "message %s has UIDs %d and %d" % (
            m["id"], byid.get(m["id"], 0), uid))
        byid[m["id"]] = uid
    want_ids = set(appended) | set(side.appended)
    missing = sorted(want_ids - set(byid))
    extra = sorted(set(byid) - want_ids)
    check(not missing, "lost (appended, not in Dovecot's view): %s"
          % missing[:20])
    check(not extra, "messages nobody appended: %s" % extra[:20])
    wrong = []
    for ident, uid in sorted(appended.items(), key=lambda x: x[1]):
        if byid[ident] != uid:
            wrong.append("%s: md_torture printed UID %d, Dovecot has it as "
                         "%d (and UID %d is %s there)" % (
                             ident, uid, byid[ident], uid,
                             v["msgs"][uid]["id"] if uid in v["msgs"]
                             else "nothing"))
    for ident, (uid, _f) in sorted(side.appended.items(),
                                   key=lambda x: x[1][0]):
        if byid[ident] != uid:
            wrong.append("%s: APPENDUID %d, Dovecot has it as %d now" % (
                ident, uid, byid[ident]))
    check(not wrong, "%d message(s) changed UID:\n%s" % (
        len(wrong), "\n".join(wrong[:15])))
    files = scan_files(info, "INBOX")
    for ident, where in files.items():
        check(len(where) == 1, "%s is in %d files: %s" % (
            ident, len(where), ", ".join(w for w, _p in where)))
    eq(sorted(files), sorted(byid), "files vs IMAP")

    # the last word of each owner
    owned = {}
    for ident, uid in appended.items():
        owned[uid] = set(at_append[uid])
    for ident, (uid, fl) in side.appended.items():
        owned[uid] = set(fl)
    for uid, ch in changes:
        for c in ch.split(","):
            if c == "none":
                continue
            f = c[1:]
            check(f in MD_OWNS, "md_torture changed %s, not its own" % f)
            (owned[uid].add if c[0] == "+" else owned[uid].discard)(f)
    for uid, sign, f in side.stores:
        (owned[uid].add if sign == "+" else owned[uid].discard)(f)
    bad = []
    for uid, m in sorted(v["msgs"].items()):
        got = flagset(m["flags"], m["kw"])
        if got != owned[uid]:
            bad.append("UID %d (%s): flags %s, want %s" % (
                uid, m["id"], sorted(got), sorted(owned[uid])))
    check(not bad, "%d message(s) with a lost or stray flag:\n%s" % (
        len(bad), "\n".join(bad[:20])))

    md = t.list(root, "INBOX")
    eq(md["uidvalidity"], v["uidvalidity"], "UIDVALIDITY md vs Dovecot")
    mdview = {m["uid"]: (m["id"], m["flags"], m["kw"]) for m in md["msgs"]}
    eq(len(mdview), len(md["msgs"]), "md_torture list: a UID twice")
    dview = {u: (m["id"], m["flags"], m["kw"]) for u, m in v["msgs"].items()}
    eq(mdview, dview, "md_torture list vs Dovecot (uid -> id, flags, kw)")
    for m in md["msgs"]:
        eq((m["size"], m["fnv"]), digest(m["id"], files[m["id"]]),
           "md_torture list: size and FNV-1a of %s" % m["id"])
    v2 = imap_view(info, "INBOX", bodies=False)
    eq({u: (m["id"], m["flags"], m["kw"]) for u, m in v2["msgs"].items()},
       dview, "a second SELECT")
    _o, bad = dovecot_log_problems(info, 0)
    check(not bad, "Dovecot logged:\n" + "\n".join(bad[:20]))


def main():
    return tap([test_concurrent_writers], setup, teardown)


if __name__ == "__main__":
    sys.exit(main())
