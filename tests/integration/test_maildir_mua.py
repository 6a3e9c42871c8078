#!/usr/bin/env python3
"""A Maildir written by maildir/ read and changed by mblaze and mutt (TAP).

md_torture appends messages with flags and keywords into a fresh Maildir
(no Dovecot).  Then:

  - mblaze: `mlist` lists every message (the same file names), its flag
    filters (-D -F -R -S, and -X with the keyword letters of
    dovecot-keywords) select exactly the messages md_torture reports
    with that flag or keyword, and `mhdr` reads every message's
    X-Torture header; `mflag -S`, `mflag -s` and `mflag -X LETTER` on a
    message are seen by `md_torture list` with its UID, other flags,
    keywords and bytes unchanged;
  - mutt and neomutt (each in a pseudo-terminal, no configuration:
    -n -F /dev/null) count every message in their status line, and
    toggling \\Flagged on one message then syncing is seen by md_torture
    the same way.

A missing mblaze, mutt or neomutt (sh tools/deps.sh installs them) fails
the tests that need it.
Helpers come from test_maildir_crash.py.
"""

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_maildir_crash import (  # noqa: E402
    Fail, Torture, build_torture, check, eq, tap)

CTX = {}
COUNT = 12


def setup():
    tmp = tempfile.mkdtemp(prefix="postern-md-mua-")
    CTX["tmp"] = tmp
    exe = build_torture(tmp)
    CTX["torture"] = Torture(exe)
    CTX["root"] = os.path.join(tmp, "Mail")
    CTX["torture"].run(["-s", "5", "append", CTX["root"], "INBOX",
                        str(COUNT), "mua"])
    return None


def teardown():
    if "tmp" in CTX:
        shutil.rmtree(CTX["tmp"], ignore_errors=True)


def md_list():
    return CTX["torture"].list(CTX["root"], "INBOX")["msgs"]


def tool(argv, stdin=None):
    if not shutil.which(argv[0]):
        raise Fail("%s not installed (sh tools/deps.sh installs mblaze "
                   "and mutt)" % argv[0])
    p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                        p.stderr.decode(errors="replace")))
    return p.stdout.decode(errors="replace")


def keyword_letters():
    """{keyword: letter} from dovecot-keywords ("N name" lines)."""
    out = {}
    path = os.path.join(CTX["root"], "dovecot-keywords")
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for ln in f:
            m = re.match(r"^(\d+) (\S+)$", ln.rstrip("\n"))
            check(m, "dovecot-keywords: bad line %r" % ln)
            check(int(m.group(1)) < 26, "dovecot-keywords: index %s"
                  % m.group(1))
            out[m.group(2)] = chr(ord("a") + int(m.group(1)))
    return out


def path_of(m):
    for sub in ("cur", "new"):
        p = os.path.join(CTX["root"], sub, m["filename"])
        if os.path.exists(p):
            return p
    raise Fail("UID %d: %s is in neither cur/ nor new/" % (m["uid"],
                                                           m["filename"]))


def names(out):
    return sorted(os.path.basename(ln) for ln in out.splitlines() if ln)


def test_mlist_lists_every_message():
    msgs = md_list()
    eq(len(msgs), COUNT, "md_torture list")
    eq(names(tool(["mlist", CTX["root"]])),
       sorted(m["filename"] for m in msgs), "mlist vs md_torture list")


def test_mlist_flag_filters_agree():
    msgs = md_list()
    for letter in "DFRS":
        got = names(tool(["mlist", "-" + letter, CTX["root"]]))
        want = sorted(m["filename"] for m in msgs if letter in m["flags"])
        eq(got, want, "mlist -%s" % letter)
    kws = keyword_letters()
    used = {k for m in msgs for k in m["kw"]}
    check(used, "md_torture appended no keyword: nothing to compare")
    for kw in sorted(used):
        check(kw in kws, "keyword %s is not in dovecot-keywords" % kw)
        got = names(tool(["mlist", "-X", kws[kw], CTX["root"]]))
        want = sorted(m["filename"] for m in msgs if kw in m["kw"])
        eq(got, want, "mlist -X %s (keyword %s)" % (kws[kw], kw))


def test_mhdr_reads_every_message():
    msgs = md_list()
    paths = [path_of(m) for m in msgs]
    out = tool(["mhdr", "-h", "X-Torture"] + paths)
    got = sorted(ln.split()[0] for ln in out.splitlines() if ln.strip())
    eq(got, sorted(m["id"] for m in msgs), "mhdr -h X-Torture")


def changed_one(before, after, what):
    """The one message whose flags/keywords changed; everything else
    (UIDs, bytes, other messages) as before."""
    b = {m["uid"]: m for m in before}
    a = {m["uid"]: m for m in after}
    eq(sorted(a), sorted(b), "%s: UIDs" % what)
    diff = []
    for uid in a:
        eq((a[uid]["id"], a[uid]["fnv"]), (b[uid]["id"], b[uid]["fnv"]),
           "%s: UID %d's message" % (what, uid))
        if (a[uid]["flags"], a[uid]["kw"]) != (b[uid]["flags"], b[uid]["kw"]):
            diff.append(uid)
    return diff


def mflag_step(m, opts, want_flags, want_kw, what):
    before = md_list()
    tool(["mflag"] + opts + [path_of(m)])
    after = md_list()
    diff = changed_one(before, after, what)
    got = {x["uid"]: x for x in after}[m["uid"]]
    eq((got["flags"], got["kw"]), (frozenset(want_flags),
                                   frozenset(want_kw)),
       "%s: UID %d flags and keywords" % (what, m["uid"]))
    eq(diff, [m["uid"]], "%s: messages that changed" % what)
    return got


def test_mflag_changes_seen_by_maildir():
    msgs = md_list()
    m = next((x for x in msgs if "S" not in x["flags"] and x["kw"]), None) \
        or next((x for x in msgs if "S" not in x["flags"]), None)
    check(m, "every message is \\Seen: nothing to mark")
    m = mflag_step(m, ["-S"], m["flags"] | {"S"}, m["kw"], "mflag -S")
    m = mflag_step(m, ["-s"], m["flags"] - {"S"}, m["kw"], "mflag -s")
    kws = keyword_letters()
    missing = sorted(k for k in kws if k not in m["kw"])
    check(missing, "UID %d has every keyword already" % m["uid"])
    mflag_step(m, ["-X", kws[missing[0]]], m["flags"],
               m["kw"] | {missing[0]}, "mflag -X %s (%s)" % (
                   kws[missing[0]], missing[0]))


def run_mutt(prog, push, timeout=20):
    """mutt or neomutt on the Maildir in a pseudo-terminal; returns its
    screen output (escape sequences and all)."""
    if not shutil.which(prog):
        raise Fail("%s not installed (sh tools/deps.sh installs it)" % prog)
    home = os.path.join(CTX["tmp"], "home")
    # mutt asks to create $folder (~/Mail) when it is missing
    os.makedirs(os.path.join(home, "Mail"), exist_ok=True)
    argv = [prog, "-n", "-F", "/dev/null", "-f", CTX["root"], "-e",
            "set quit=yes mbox_type=Maildir mark_old=no "
            "status_format='POSTERN-STATUS msgs=%m flagged=%F'",
            "-e", "push '%s'" % push]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update({"TERM": "xterm", "HOME": home, "LC_ALL": "C"})
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    out = b""
    end = time.monotonic() + timeout
    status = None
    try:
        while time.monotonic() < end:
            r, _w, _x = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                out += chunk
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                break
        while status is None and time.monotonic() < end:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
            else:
                time.sleep(0.05)
    finally:
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    check(status is not None, "%s still running after %d s: %r" % (
        prog, timeout, out[-500:]))
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
          "%s exit status %r: %r" % (prog, status, out[-500:]))
    return out.decode(errors="replace")


def mutt_flags_one(prog):
    before = md_list()
    out = run_mutt(prog, "<flag-message><sync-mailbox><quit>")
    m = re.findall(r"POSTERN-STATUS msgs=(\d+)", out)
    check(m, "%s showed no status line: %r" % (prog, out[-800:]))
    eq(int(m[0]), COUNT, "%s's message count" % prog)
    after = md_list()
    diff = changed_one(before, after, "%s <flag-message>" % prog)
    eq(len(diff), 1, "messages %s changed" % prog)
    b = {x["uid"]: x for x in before}[diff[0]]
    a = {x["uid"]: x for x in after}[diff[0]]
    eq(a["flags"], b["flags"] ^ {"F"}, "UID %d flags after %s toggled "
       "\\Flagged" % (diff[0], prog))
    eq(a["kw"], b["kw"], "UID %d keywords after %s" % (diff[0], prog))


def test_mutt_reads_and_flags():
    mutt_flags_one("mutt")


def test_neomutt_reads_and_flags():
    mutt_flags_one("neomutt")


def main():
    return tap([test_mlist_lists_every_message, test_mlist_flag_filters_agree,
                test_mhdr_reads_every_message,
                test_mflag_changes_seen_by_maildir,
                test_mutt_reads_and_flags, test_neomutt_reads_and_flags],
               setup, teardown)


if __name__ == "__main__":
    sys.exit(main())
