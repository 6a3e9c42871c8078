#!/usr/bin/env python3
"""dovecot_alone.py - how Dovecot numbers messages when no postern code
runs: the baseline for test_maildir_concurrency.py (not a test).

The IMAP side of that test (one session APPENDing, one STOREing flags)
runs against a Dovecot on loopback for SECONDS while this script, in
place of md_torture, delivers through tmp/ -> new/ and flips \\Flagged by
renaming files in cur/, in plain Python.  A thread reads dovecot-uidlist
every 30 ms and remembers the first UID each file got.  At the end it
prints how many messages changed UID (the APPENDUIDs, and the first UIDs
of the Python deliveries) and how many of those changes no line of
Dovecot's log names.

Dovecot 2.3.19 here: 4-30 changes a 20 s run, about one in forty of
them with no log line at all; its imap process also dies with SIGSEGV
now and then.  That is why the concurrency test reports UID changes
instead of failing on them.

usage: python3 tests/integration/dovecot_alone.py [SECONDS]
"""

import os
import random
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_maildir_crash import (  # noqa: E402
    dovecot_log_problems, gen_message, imap_login, imap_view, scan_files,
    start_dovecot, stop_dovecot)
from test_maildir_concurrency import ImapSide  # noqa: E402


def base_of(path):
    return os.path.basename(path).split(":")[0].split(",")[0]


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    tmp = tempfile.mkdtemp(prefix="postern-dovecot-alone-")
    os.chmod(tmp, 0o755)
    try:
        info = start_dovecot(tmp)
        try:
            return run(info, seconds)
        finally:
            stop_dovecot(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(info, seconds):
    root = info["mail_root"] + "/alice"
    c = imap_login(info)	# INBOX exists from here on
    c.select("INBOX")
    c.logout()
    end = time.monotonic() + seconds
    first = {}

    def watch():
        path = os.path.join(root, "dovecot-uidlist")
        while time.monotonic() < end + 1:
            try:
                with open(path, "rb") as f:
                    lines = f.read().decode(errors="replace").splitlines()
            except OSError:
                lines = []
            for ln in lines[1:]:
                uid = ln.partition(" ")[0]
                if " :" in ln and uid.isdigit():
                    first.setdefault(ln.split(" :", 1)[1].split(",")[0],
                                     int(uid))
            time.sleep(0.03)

    side = ImapSide(info, seconds, 7)
    threads = [threading.Thread(target=side.appender),
               threading.Thread(target=side.storer),
               threading.Thread(target=watch)]
    for t in threads:
        t.start()
    rng = random.Random(3)
    n = 0
    while time.monotonic() < end:
        if rng.random() < 0.35:
            name = "%d.M%dP%d.alone" % (time.time(), n, os.getpid())
            tmpf = os.path.join(root, "tmp", name)
            with open(tmpf, "wb") as f:
                f.write(gen_message("p.%d" % n, rng.randint(1, 40)))
            if os.getuid() == 0:
                os.chown(tmpf, info["mail_uid"], info["mail_gid"])
            os.rename(tmpf, os.path.join(root, "new", name))
            n += 1
        else:
            cur = os.path.join(root, "cur")
            names = [x for x in os.listdir(cur) if ":2," in x]
            if names:
                fn = rng.choice(names)
                b, fl = fn.split(":2,")
                nf = "".join(sorted(set(fl) ^ {"F"}))
                try:
                    os.rename(os.path.join(cur, fn),
                              os.path.join(cur, b + ":2," + nf))
                except FileNotFoundError:
                    pass
        time.sleep(rng.uniform(0, 0.004))
    for t in threads:
        t.join()
    view = imap_view(info, "INBOX")
    byid = {m["id"]: uid for uid, m in view["msgs"].items()}
    files = scan_files(info, "INBOX")
    _o, logged = dovecot_log_problems(info, 0)
    changed = []
    for ident, (uid, _f) in side.appended.items():
        if ident in byid and byid[ident] != uid:
            changed.append((ident, uid, byid[ident]))
    for ident, where in files.items():
        b = base_of(where[0][1])
        if ident.startswith("p.") and b in first and \
                first[b] != byid.get(ident):
            changed.append((ident, first[b], byid.get(ident)))
    silent = [c for c in changed if c[0] in files and
              not any(base_of(files[c[0]][0][1]) in ln for ln in logged)]
    print("Python delivered %d, IMAP appended %d and stored %d times in "
          "%g s" % (n, len(side.appended), len(side.stores), seconds))
    print("messages that changed UID: %d; with no Dovecot log line: %d %s"
          % (len(changed), len(silent), silent[:10]))
    print("Dovecot's imap crashed %d time(s)" % sum(
        "killed with signal" in ln for ln in logged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
