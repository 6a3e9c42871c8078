#!/usr/bin/env python3
"""run.py - the Maildir benchmark: open a folder and produce its index.

1. Generate a 50,000-message Maildir (bench/imap/gen_maildir.py, seed 1:
   realistic header blocks, 2-50 KB, mostly around 5 KB) in a temporary
   directory, then open it once untimed with md_index_bench --open-only
   so that dovecot-uidlist exists (UID assignment is not what is timed).
2. Build bench/maildir/md_index_bench.c (the library alone: it links
   build/libmaildir.a and build/libpn.a, opens the folder and prints UID,
   date, from, subject, flags and size of every message through
   md_folder_index()) and bench/maildir/raw_headers.c (the limit); the
   "postern fetch" row is the CLI itself (`postern fetch DIR INBOX`,
   through store/, RFC 2047 decoding and aligned rows included).
3. Time, in interleaved rounds (best of --runs counts):
     cold   page cache dropped before each run (sync; echo 3 >
            /proc/sys/vm/drop_caches), no postern-cache: postern, raw
            (name order, no readahead: strict), raw -n (directory order:
            naive), mblaze (mlist DIR | mscan), mutt, neomutt
     hot    the same with the files in the page cache (postern-cache
            removed before each postern run)
     warm   postern with postern-cache present, files in the page cache
   When the page cache cannot be dropped (not root, a container), the
   cold rows say so and are in fact hot.
   mutt and neomutt run under script(1) (they want a terminal) with
   -n -R -F /dev/null (no header cache, read-only) and -e 'push q', so
   they quit once the index is drawn; HOME is a temporary directory.
4. Targets (issue 5), PASS or MISS: postern cold <= 1.25x the faster raw
   reader cold, and faster than mblaze cold; postern warm < 0.1 s; max
   RSS of every postern run < 64 MB.  The postern rows also show the
   time md_index_bench measured inside the process for opening the
   folder (scan, stat, dovecot-uidlist: maildir/folder.c) and for
   md_folder_index itself.

Wall time is measured around the run (GNU time's %e has 10 ms steps)
with a blocking wait (a wait with a timeout polls and rounds up to the
next poll, up to 50 ms); max RSS comes from GNU time (-f %M): a child
forked straight from Python would report Python's own peak RSS.
Exits 0 when everything ran (a MISS is a result), 1 when something could
not run.  The temporary directory is removed (--keep DIR keeps the
Maildir, --reuse DIR starts from one).

usage: bench/maildir/run.py [--count 50000] [--runs 3] [--no-mutt]
                            [--keep DIR | --reuse DIR]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
GNU_TIME = "/usr/bin/time"
RUN_TIMEOUT = 300
TARGET_RAW = 1.25
TARGET_WARM = 0.1
TARGET_RSS_MB = 64
CFLAGS = ["-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra"]


def log(msg):
    print(msg, flush=True)


class Result:
    def __init__(self, secs, rss_mb, note=""):
        self.secs, self.rss_mb, self.note = secs, rss_mb, note


def drop_caches():
    """True when the page cache was dropped."""
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def timed(argv, workdir, env=None):
    """Run argv under GNU time; Result, or raise RuntimeError."""
    tfile = os.path.join(workdir, "time.out")
    efile = os.path.join(workdir, "stderr.out")
    with open(efile, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen([GNU_TIME, "-q", "-f", "%M", "-o", tfile] +
                             argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err, env=env)
        # Not subprocess.run(timeout=): a wait with a timeout polls, with
        # sleeps doubling up to 50 ms, so every wall time came out as the
        # next poll (anything from 64 to 113 ms read 0.114 s).  A blocking
        # wait, and a timer to kill a run that hangs.
        hung = threading.Event()
        killer = threading.Timer(RUN_TIMEOUT, lambda: (hung.set(), p.kill()))
        killer.start()
        try:
            p.wait()
        finally:
            killer.cancel()
        wall = time.monotonic() - t0
    if hung.is_set():
        raise subprocess.TimeoutExpired(argv, RUN_TIMEOUT)
    with open(efile, "rb") as f:
        note = f.read().decode(errors="replace").strip().splitlines()
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (argv[0], p.returncode,
                                                " ".join(note[-3:])))
    with open(tfile) as f:
        rss = f.read().split()[-1]
    # GNU time's %e has 10 ms steps; the wall clock here is finer and
    # differs by one fork and exec.
    return Result(wall, int(rss) / 1024.0,
                  note[-1] if note else "")


def build(workdir):
    subprocess.run(["make", "-s", "-C", TOP, "build/libmaildir.a",
                    "build/libpn.a", "build/postern"], check=True)
    bins = {}
    for name, extra in (("md_index_bench", [os.path.join(TOP, "build",
                                                         "libmaildir.a"),
                                            os.path.join(TOP, "build",
                                                         "libpn.a")]),
                        ("raw_headers", [])):
        out = os.path.join(workdir, name)
        subprocess.run(["cc"] + CFLAGS + ["-o", out,
                                          os.path.join(HERE, name + ".c")] +
                       extra, check=True)
        bins[name] = out
    return bins


def programs(bins, maildir, home, want_mutt):
    """(name, argv, env, removes_cache) for every program that can run."""
    env = dict(os.environ, HOME=home, TERM="xterm")
    mdb = bins["md_index_bench"]
    # "postern fetch": the command a user types, over store/ (envelopes
    # built from the same header cache, RFC 2047 decoded, rows aligned).
    postern = os.environ.get("POSTERN") or os.path.join(TOP, "build",
                                                        "postern")
    progs = [("postern", [mdb, maildir], None, True),
             ("postern fetch", [postern, "fetch", maildir, "INBOX"], None,
              True),
             ("raw", [bins["raw_headers"], maildir], None, False),
             ("raw -n", [bins["raw_headers"], "-n", maildir], None, False)]
    if shutil.which("mlist") and shutil.which("mscan"):
        progs.append(("mblaze", ["sh", "-c", 'mlist "$1" | mscan',
                                 "sh", maildir], env, False))
    else:
        log("mblaze: not installed (sh tools/deps.sh bench); skipped")
    for mutt in ("mutt", "neomutt"):
        if not want_mutt:
            continue
        if not (shutil.which(mutt) and shutil.which("script")):
            log("%s: not installed (sh tools/deps.sh bench); skipped" % mutt)
            continue
        cmd = "%s -n -R -F /dev/null -f '%s' -e 'push q'" % (mutt, maildir)
        progs.append((mutt, ["script", "-qec", cmd, "/dev/null"], env,
                      False))
    return progs


def remove_cache(maildir):
    try:
        os.unlink(os.path.join(maildir, "postern-cache"))
    except FileNotFoundError:
        pass


def run_rounds(progs, maildir, workdir, runs, cold):
    """{name: [Result]} over interleaved rounds."""
    res = {}
    for r in range(runs):
        for name, argv, env, uncached in progs:
            if uncached:
                remove_cache(maildir)
            if cold:
                drop_caches()
            try:
                res.setdefault(name, []).append(timed(argv, workdir, env))
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                log("%s: %s" % (name, e))
                res.setdefault(name, [])
    return res


def best(rs):
    return min(rs, key=lambda r: r.secs) if rs else None


def verdict(ok):
    return "PASS" if ok else "MISS"


def show(title, res):
    log("")
    log(title)
    for name, rs in res.items():
        b = best(rs)
        if not b:
            log("  %-13s  did not run" % name)
            continue
        runs = " ".join("%.2f" % r.secs for r in rs)
        note = "  [%s]" % b.note if name == "postern" and b.note else ""
        log("  %-13s %7.3f s  max RSS %6.1f MB  (runs: %s)%s" % (
            name, b.secs, b.rss_mb, runs, note))


def ratio(a, b):
    return a.secs / b.secs if a and b and b.secs > 0 else None


def report(cold, hot, warm, dropped, count):
    log("")
    log("Targets (%d messages):" % count)
    pc, pw = best(cold.get("postern", [])), best(warm.get("postern", []))
    raws = [r for r in (best(cold.get("raw", [])),
                        best(cold.get("raw -n", []))) if r]
    lim = min(raws, key=lambda r: r.secs) if raws else None
    mb = best(cold.get("mblaze", []))
    what = "cold" if dropped else "cold (page cache NOT dropped)"
    r = ratio(pc, lim)
    log("  %s: postern / faster raw reader = %s (<= %.2fx)  %s" % (
        what, "%.2fx" % r if r else "n/a", TARGET_RAW,
        verdict(r is not None and r <= TARGET_RAW)))
    r = ratio(mb, pc)
    log("  %s: mblaze / postern = %s (> 1x)  %s" % (
        what, "%.2fx" % r if r else "n/a", verdict(r is not None and r > 1)))
    log("  warm: postern %s (< %.1f s)  %s   [%s]" % (
        "%.3f s" % pw.secs if pw else "n/a", TARGET_WARM,
        verdict(pw is not None and pw.secs < TARGET_WARM),
        pw.note if pw else ""))
    rss = [x.rss_mb for res in (cold, hot, warm)
           for x in res.get("postern", [])]
    log("  max RSS of postern runs: %s (< %d MB)  %s" % (
        "%.1f MB" % max(rss) if rss else "n/a", TARGET_RSS_MB,
        verdict(bool(rss) and max(rss) < TARGET_RSS_MB)))
    fc, fw = best(cold.get("postern fetch", [])), best(warm.get("postern fetch", []))
    r = ratio(fc, lim)
    log("  %s: postern fetch / faster raw reader = %s, mblaze / postern "
        "fetch = %s, warm postern fetch %s (the CLI; for reference)" % (
            what, "%.2fx" % r if r else "n/a",
            "%.2fx" % ratio(mb, fc) if ratio(mb, fc) else "n/a",
            "%.3f s" % fw.secs if fw else "n/a"))
    ph, rh = best(hot.get("postern", [])), best(hot.get("raw", []))
    mh = best(hot.get("mblaze", []))
    log("  (hot page cache, no postern-cache: postern/raw %s, "
        "mblaze/postern %s; for reference)" % (
            "%.2fx" % ratio(ph, rh) if ratio(ph, rh) else "n/a",
            "%.2fx" % ratio(mh, ph) if ratio(mh, ph) else "n/a"))


def setup(a, workdir, bins):
    maildir = a.reuse or os.path.join(workdir, "Maildir")
    home = os.path.join(workdir, "home")
    os.makedirs(os.path.join(home, "Mail"), exist_ok=True)
    if not a.reuse:
        log("generating %d messages (bench/imap/gen_maildir.py, seed 1)" %
            a.count)
        subprocess.run([sys.executable, os.path.join(TOP, "bench", "imap",
                                                     "gen_maildir.py"),
                        "--count", str(a.count), maildir], check=True)
    subprocess.run([bins["md_index_bench"], "--open-only", maildir],
                   check=True, stderr=subprocess.DEVNULL)
    # One untimed run: every message must come out once.
    out = subprocess.run([bins["md_index_bench"], maildir], check=True,
                         stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout
    lines = out.count(b"\n")
    n = len(os.listdir(os.path.join(maildir, "cur"))) + \
        len(os.listdir(os.path.join(maildir, "new")))
    if lines != n:
        raise RuntimeError("md_index_bench printed %d lines for %d "
                           "messages" % (lines, n))
    return maildir, home, n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-mutt", action="store_true")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--keep", metavar="DIR")
    g.add_argument("--reuse", metavar="DIR")
    a = ap.parse_args()
    if not os.access(GNU_TIME, os.X_OK):
        log("bench/maildir: GNU time missing (sh tools/deps.sh bench)")
        return 1
    workdir = tempfile.mkdtemp(prefix="pn-bench-maildir-")
    try:
        log("== bench/maildir: open a folder and produce its index ==")
        log("postern: bench/maildir/md_index_bench.c through "
            "build/libmaildir.a (the library alone); postern fetch: "
            "the CLI through store/")
        bins = build(workdir)
        maildir, home, n = setup(a, workdir, bins)
        dropped = drop_caches()
        log("page cache: %s" % ("dropped before each cold run" if dropped
                                else "cannot be dropped here (not "
                                "permitted): 'cold' rows are only "
                                "without postern-cache"))
        progs = programs(bins, maildir, home, not a.no_mutt)
        cold = run_rounds(progs, maildir, workdir, a.runs, dropped)
        show("cold (%s, no postern-cache):" % (
            "page cache dropped" if dropped else "page cache NOT dropped"),
            cold)
        hot = run_rounds(progs, maildir, workdir, a.runs, False)
        show("hot page cache, no postern-cache:", hot)
        subprocess.run(progs[0][1], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        warm = run_rounds([(p[0], p[1], p[2], False) for p in progs[:2]],
                          maildir, workdir, a.runs, False)
        show("warm (postern-cache present, hot page cache):", warm)
        report(cold, hot, warm, dropped, n)
        if a.keep:
            shutil.move(maildir, a.keep)
            log("kept the Maildir in %s" % a.keep)
        return 0
    except (RuntimeError, subprocess.CalledProcessError,
            subprocess.TimeoutExpired, OSError) as e:
        log("bench/maildir: %s" % e)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
