#!/usr/bin/env python3
"""run.py - the MIME benchmark: postern against GMime 3 and Python's email.

1. Generate a corpus shaped like real mail with tools/gen-corpus.py (about
   400 MB by default) in a temporary directory.
2. Time, in one run, three programs doing the same job over the same list
   of files: parse each message, walk every part, transfer-decode every
   leaf and SHA-256 it:
     postern mime tree --json --files-from LIST   (one process)
     bench/mime/gmime_walk LIST                   (GMime 3, built here)
     bench/mime/py_walk.py LIST                   (Python email, policy.default)
   Each runs --runs times (3), in interleaved rounds; the best time
   counts.  MB/s is corpus bytes over that time.
3. Extract a 1 GB base64 attachment with `postern mime extract` under
   /usr/bin/time -v (or getrusage) and report the maximum RSS.

Targets: postern >= 1.5x GMime, >= 10x Python, RSS < 64 MB.  Prints PASS or
MISS per target; exits 0 either way unless something failed to run (a
MISS is a result, not an error).  Temporary files are always removed.

usage: bench/mime/run.py [--mb 400] [--runs 3] [--big-mb 1024] [--no-big]
                         [--no-python] [--keep DIR]
environment: POSTERN (default ./postern), TMPDIR (where the corpus goes)
"""

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
GEN = os.path.join(TOP, "tools", "gen-corpus.py")

TARGET_GMIME = 1.5
TARGET_PYTHON = 10.0
TARGET_RSS_MB = 64


def say(*a):
    print(*a, flush=True)


def run_quiet(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, **kw)


def build_gmime(outdir):
    try:
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "gmime-3.0"],
                               capture_output=True, text=True, check=True
                               ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None, "gmime-3.0 not found by pkg-config (sh tools/deps.sh bench)"
    exe = os.path.join(outdir, "gmime_walk")
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O2", "-o", exe, os.path.join(HERE, "gmime_walk.c")]
                       + flags + ["-lcrypto"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, "building gmime_walk failed:\n" + r.stderr
    return exe, None


def best_time(cmd, runs):
    """Best wall time of runs runs; stdout discarded.  Raises on failure."""
    best = None
    for _ in range(runs):
        t0 = time.perf_counter()
        r = run_quiet(cmd)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError("%s exited %d: %s" % (" ".join(cmd[:3]), r.returncode,
                                                     r.stderr.decode(errors="replace")[-600:]))
        best = dt if best is None else min(best, dt)
    return best


def check_postern(postern, listfile, nfiles):
    """One untimed run: every message must come back as a JSON line with
    parts; returns (leaves, decoded bytes) for the report."""
    r = subprocess.run([postern, "mime", "tree", "--json", "--files-from", listfile],
                       capture_output=True)
    lines = r.stdout.splitlines()
    leaves = decoded = bad = 0
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if "parts" not in obj:
            bad += 1
            continue
        for p in obj["parts"]:
            if p.get("size") is not None:
                leaves += 1
                decoded += p["size"]
    if r.returncode != 0 or len(lines) != nfiles or bad:
        raise RuntimeError("postern mime tree --json --files-from: exit %d, %d lines for "
                           "%d files, %d bad: %s" % (r.returncode, len(lines), nfiles,
                                                     bad, r.stderr.decode(errors="replace")[-600:]))
    return leaves, decoded


def max_rss_kb(cmd):
    """Run cmd; return (exit code, max RSS in KiB, how it was measured)."""
    if os.access("/usr/bin/time", os.X_OK):
        r = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
        if m:
            return r.returncode, int(m.group(1)), "/usr/bin/time -v"
    # Fallback: RUSAGE_CHILDREN of a fresh interpreter whose only child
    # is cmd, so the peak is cmd's own.
    code = ("import resource,subprocess,sys;"
            "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL).returncode;"
            "print(r,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code] + cmd, capture_output=True,
                         text=True).stdout.split()
    return int(out[0]), int(out[1]), "getrusage(RUSAGE_CHILDREN)"


def verdict(ok):
    return "PASS" if ok else "MISS"


def bench_throughput(a, postern, work):
    corpus = os.path.join(work, "corpus")
    say("bench: generating a %d MB corpus (tools/gen-corpus.py --seed 1 --bench)"
        % a.mb)
    subprocess.run([sys.executable, GEN, "--seed", "1", "--total-mb", str(a.mb),
                    "--bench", corpus], check=True)
    listfile = os.path.join(corpus, "files.txt")
    files = [l.rstrip("\n") for l in open(listfile) if l.strip()]
    total = 0
    for f in files:                      # also warms the page cache
        with open(f, "rb") as fh:
            while True:
                b = fh.read(1 << 20)
                if not b:
                    break
                total += len(b)
    mb = total / 1e6
    say("bench: %d messages, %.1f MB" % (len(files), mb))

    leaves, decoded = check_postern(postern, listfile, len(files))
    say("bench: postern checked: %d leaves, %.1f MB decoded" % (leaves, decoded / 1e6))

    cmds = {"postern": [postern, "mime", "tree", "--json", "--files-from", listfile]}
    gmime, why = build_gmime(work)
    if gmime:
        # The verdict uses GMime with OpenSSL's SHA-256, the code postern
        # hashes with; GChecksum's slower SHA-256 is shown for reference.
        cmds["gmime"] = [gmime, "-o", listfile]
        cmds["gmime-gchecksum"] = [gmime, listfile]
    else:
        say("bench: GMime skipped: " + why)
    if not a.no_python:
        cmds["python"] = [sys.executable, os.path.join(HERE, "py_walk.py"), listfile]
    # Rounds interleave the programs, so a burst of load from elsewhere on
    # the machine hits all of them rather than one.
    say("bench: timing, best of %d rounds (postern, GMime, Python in turn)" % a.runs)
    results = {}
    for _ in range(a.runs):
        for k, cmd in cmds.items():
            t = best_time(cmd, 1)
            results[k] = min(results.get(k, t), t)

    say("")
    say("%-34s %9s %10s" % ("parse + walk + decode + sha256", "best s", "MB/s"))
    say("%-34s %9s %10s" % ("(%.1f MB, %d messages)" % (mb, len(files)), "", ""))
    labels = {"postern": "postern mime tree --json",
              "gmime": "GMime 3, OpenSSL SHA-256",
              "gmime-gchecksum": "GMime 3, GChecksum SHA-256",
              "python": "Python email (py_walk.py)"}
    for k in ("postern", "gmime", "gmime-gchecksum", "python"):
        if k in results:
            say("%-34s %9.3f %10.1f" % (labels[k], results[k], mb / results[k]))
    say("")
    ok = True
    for k, target in (("gmime", TARGET_GMIME), ("python", TARGET_PYTHON)):
        if k not in results:
            say("postern/%-7s   n/a   (target >= %.1fx)  MISS (not measured)"
                % (k, target))
            ok = False
            continue
        ratio = results[k] / results["postern"]
        say("postern/%-7s %6.2fx  (target >= %.1fx)  %s"
            % (k, ratio, target, verdict(ratio >= target)))
        if k == "gmime" and "gmime-gchecksum" in results:
            say("  (against GMime with GChecksum: %.2fx)"
                % (results["gmime-gchecksum"] / results["postern"]))
        ok &= ratio >= target
    return ok


def bench_big(a, postern, work):
    big = os.path.join(work, "big.eml")
    say("")
    say("bench: generating a message with a %d MB base64 attachment" % a.big_mb)
    out = subprocess.run([sys.executable, GEN, "--seed", "2", "--big-mb", str(a.big_mb),
                          big], check=True, capture_output=True, text=True).stdout.split()
    size, digest = int(out[0]), out[1]
    outdir = os.path.join(work, "extract")
    os.mkdir(outdir)
    cmd = [postern, "mime", "extract", "--part", "2", "-o", outdir, big]
    t0 = time.perf_counter()
    rc, rss_kb, how = max_rss_kb(cmd)
    dt = time.perf_counter() - t0
    os.unlink(big)
    written = [os.path.join(outdir, f) for f in os.listdir(outdir)]
    if rc != 0 or len(written) != 1:
        say("bench: %s failed (exit %d, %d files written)" % (" ".join(cmd[:4]), rc,
                                                               len(written)))
        return False
    h = hashlib.sha256()
    with open(written[0], "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    got = os.path.getsize(written[0])
    same = got == size and h.hexdigest() == digest
    rss_mb = rss_kb / 1024
    say("postern mime extract of %d MB: %.1f s, max RSS %.1f MB (%s), output %s"
        % (a.big_mb, dt, rss_mb, how, "verified" if same else "WRONG (size %d)" % got))
    ok = same and rss_mb < TARGET_RSS_MB
    say("extract RSS %.1f MB  (target < %d MB)  %s" % (rss_mb, TARGET_RSS_MB,
                                                     verdict(ok)))
    return ok


def main():
    ap = argparse.ArgumentParser(description="postern MIME benchmark")
    ap.add_argument("--mb", type=int, default=400, help="corpus size (400)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-mb", type=int, default=1024)
    ap.add_argument("--no-big", action="store_true")
    ap.add_argument("--no-python", action="store_true")
    ap.add_argument("--keep", metavar="DIR",
                    help="work in DIR and keep it (default: a removed temp dir)")
    a = ap.parse_args()
    postern = os.path.abspath(os.environ.get("POSTERN", os.path.join(TOP, "postern")))
    if not os.access(postern, os.X_OK):
        sys.exit("bench: %s not found; run make first" % postern)

    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
        work = a.keep
    else:
        work = tempfile.mkdtemp(prefix="postern-bench-")
    try:
        say("bench: postern %s, work dir %s" % (postern, work))
        ok = bench_throughput(a, postern, work)
        if not a.no_big:
            ok &= bench_big(a, postern, work)
        say("")
        say("bench: %s" % ("all targets met" if ok else "some targets missed"))
    except (RuntimeError, subprocess.CalledProcessError) as e:
        say("bench: error: %s" % e)
        return 1
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
