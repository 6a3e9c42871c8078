#!/usr/bin/env python3
"""run.py - the IMAP benchmark: open INBOX and fetch what an index needs.

1. Start a throwaway Dovecot on 127.0.0.1 (tests/integration/dovecot.py)
   and fill alice's INBOX with a generated Maildir of 50,000 messages
   (bench/imap/gen_maildir.py: 2-50 KB, mostly around 5 KB).
2. Warm up: the first open builds Dovecot's index and cache (timed and
   shown, not counted); two more runs settle its cache decisions.
3. Time, over plain TCP and over TLS (imaps, verified against the
   harness's CA), in interleaved rounds, the best of --runs counting:
     raw      bench/imap/raw_drain.c: LOGIN, EXAMINE and
              UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)
              as bytes, read to the tagged OK parsing nothing (the limit;
              clients.py raw is the same in Python, used without cc)
     postern  `postern fetch TARGET INBOX --json > /dev/null` when the CLI
              has it, else bench/imap/fetch_index.c (the same FETCH
              through build/libimap.a, every response decoded); the report
              names which one ran
     imaplib  the same with Python's imaplib
     mutt     mutt on INBOX under script(1) (it wants a terminal), header
              cache off, quitting as soon as the index is drawn; it
              fetches its own header set (BODY.PEEK[HEADER.FIELDS ...]),
              so it is a reference, not a like-for-like row
   postern's max RSS is GNU time's %M (/usr/bin/time -v's "Maximum
   resident set size").
   Dovecot's own "out=" byte count for each session is shown, so that
   every client is seen to receive the whole index.
4. Targets (from issue 4), PASS or MISS each, plain and TLS:
     postern <= 1.3x the raw drain, imaplib >= 5x postern's time,
     postern max RSS < 40 MB.

The server's time is part of every wall-clock figure, so imaplib/raw
bounds what any client can gain on imaplib; the report prints it, and
client CPU time (GNU time %U + %S) beside it.

Exits 0 when everything ran (a MISS is a result), 1 when something could
not run.  All temporary files are removed (--keep DIR keeps the server
directory and its Maildir for a rerun with --reuse DIR).

usage: bench/imap/run.py [--count 50000] [--runs 7] [--no-mutt]
                         [--no-tls] [--keep DIR | --reuse DIR]
                         [--budget 540]
Bounded: after --budget seconds no new round starts (each transport gets
its share), and a client still running then is killed.
environment: POSTERN (default ./postern), TMPDIR
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import dovecot  # noqa: E402

USER = "alice"
MAILBOX = "INBOX"
RUN_TIMEOUT = 300
BUDGET = 540		# seconds for the whole run (the issue: < 10 min);
			# rounds stop early, and a hung client is killed
DEADLINE = [time.monotonic() + BUDGET]
TARGET_RAW = 1.3
TARGET_IMAPLIB = 5.0
TARGET_RSS_MB = 40


def log(msg):
    print(msg, flush=True)


GNU_TIME = "/usr/bin/time"


class Timed:
    """Run argv; secs (wall), rss_mb, cpu (user + sys s), rc, err.

    The max RSS comes from GNU time's %M: a child forked from this Python
    process would report Python's own resident set as its peak (the
    kernel keeps the high-water mark across exec), so the program must be
    forked by a small process.  Without GNU time rss_mb is None."""

    def __init__(self, argv, env=None, stdin=subprocess.DEVNULL):
        rssf = None
        if os.access(GNU_TIME, os.X_OK):
            rssf = tempfile.NamedTemporaryFile(prefix="rss-", delete=False)
            rssf.close()
            argv = [GNU_TIME, "-q", "-f", "%M %U %S", "-o",
                    rssf.name] + argv
        t0 = time.monotonic()
        limit = max(5.0, min(RUN_TIMEOUT, DEADLINE[0] - t0))
        p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env,
                             start_new_session=True)
        try:
            _out, err = p.communicate(timeout=limit)
            self.rc = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # time(1) and its child
            _out, err = p.communicate()
            err = b"killed after %.0f s (time budget)" % limit
            self.rc = -signal.SIGKILL
        self.secs = time.monotonic() - t0
        self.err = err.decode(errors="replace").strip()
        self.rss_mb = self.cpu = None
        if rssf:
            try:
                with open(rssf.name) as f:
                    w = f.read().split()
                self.rss_mb = int(w[-3]) / 1024.0
                self.cpu = float(w[-2]) + float(w[-1])
            except (OSError, ValueError, IndexError):
                pass
            os.unlink(rssf.name)


# ---- the clients ---------------------------------------------------------

class Client:
    name = "?"
    note = ""

    def argv(self, info, tls):
        raise NotImplementedError

    def env(self, info):
        e = dict(os.environ)
        e["BENCH_PASSWORD"] = info["users"][USER]
        return e

    def run(self, info, tls):
        return Timed(self.argv(info, tls), self.env(info))


def port_of(info, tls):
    return info["imaps_port"] if tls else info["imap_port"]


class Raw(Client):
    name = "raw"
    note = "bench/imap/raw_drain.c: socket drain, parses nothing"

    def __init__(self, binary=None):
        self.binary = binary
        if not binary:
            self.note = "bench/imap/clients.py raw (no C compiler)"

    def argv(self, info, tls):
        a = [info["host"], str(port_of(info, tls)), USER, MAILBOX,
             "implicit" if tls else "none", info["ca"]]
        if self.binary:
            return [self.binary] + a
        return [sys.executable, os.path.join(HERE, "clients.py"), "raw"] + a


class Imaplib(Client):
    name = "imaplib"
    note = "Python %d.%d imaplib" % sys.version_info[:2]

    def argv(self, info, tls):
        return [sys.executable, os.path.join(HERE, "clients.py"), "imaplib",
                info["host"], str(port_of(info, tls)), USER, MAILBOX,
                "implicit" if tls else "none", info["ca"]]


class PosternCli(Client):
    name = "postern"
    note = "postern fetch TARGET INBOX --json"

    def __init__(self, postern, workdir):
        self.postern = postern
        self.workdir = workdir

    def env(self, info):
        # the account's password comes from password_command
        e = super().env(info)
        cfg = os.path.join(self.workdir, "xdg", "postern")
        os.makedirs(cfg, exist_ok=True)
        with open(os.path.join(cfg, "config"), "w") as f:
            f.write("[account bench]\nhost = %s\nuser = %s\n"
                    "password_command = echo %s\ncafile = %s\n" % (
                        info["host"], USER, info["users"][USER],
                        info["ca"]))
        os.chmod(os.path.join(cfg, "config"), 0o600)
        e["XDG_CONFIG_HOME"] = os.path.join(self.workdir, "xdg")
        return e

    def argv(self, info, tls):
        scheme = "imaps" if tls else "imap"
        argv = [self.postern, "fetch", "%s://%s@%s:%d/" % (
            scheme, USER, info["host"], port_of(info, tls)), MAILBOX,
            "--json", "--cafile", info["ca"]]
        if not tls:
            argv += ["--tls", "none"]
        return argv


class PosternLib(Client):
    name = "postern"
    note = "bench/imap/fetch_index.c on build/libimap.a (CLI not ready)"

    def __init__(self, binary):
        self.binary = binary

    def argv(self, info, tls):
        return [self.binary, info["host"], str(port_of(info, tls)), USER,
                MAILBOX, "implicit" if tls else "none", info["ca"]]


class Mutt(Client):
    name = "mutt"

    def __init__(self, workdir):
        self.workdir = workdir
        try:
            v = subprocess.run(["mutt", "-v"], stdout=subprocess.PIPE,
                               timeout=10).stdout.decode().split("\n")[0]
        except (OSError, subprocess.TimeoutExpired):
            v = "mutt"
        self.note = v.strip() + " under script(1), header cache off"

    def muttrc(self, info, tls):
        url = "%s://%s:%d/" % ("imaps" if tls else "imap", info["host"],
                               port_of(info, tls))
        path = os.path.join(self.workdir, "muttrc-%s" % (
            "tls" if tls else "plain"))
        with open(path, "w") as f:
            f.write('set imap_user="%s"\nset imap_pass="%s"\n'
                    'set folder="%s"\nset spoolfile="%sINBOX"\n'
                    'set header_cache=""\nset message_cachedir=""\n'
                    'set ssl_starttls=no\nset ssl_force_tls=%s\n'
                    'set ssl_ca_certificates_file="%s"\n'
                    'set imap_check_subscribed=no\nset imap_idle=no\n'
                    'set mail_check_stats=no\nset quit=yes\nset move=no\n'
                    'set record=""\nset read_only=yes\n'
                    'set imap_passive=yes\nset timeout=600\n' % (
                        USER, info["users"][USER], url, url,
                        "yes" if tls else "no", info["ca"]))
        os.chmod(path, 0o600)
        return path

    def argv(self, info, tls):
        rc = self.muttrc(info, tls)
        # -e 'push q': q waits in the input queue and runs once the
        # index has been loaded and drawn
        return ["script", "-qec", "mutt -n -R -F %s -e 'push q'" % rc,
                "/dev/null"]

    def env(self, info):
        e = super().env(info)
        e["TERM"] = "xterm"
        e["HOME"] = self.workdir
        e["LINES"], e["COLUMNS"] = "24", "80"
        return e


def build_raw_drain(workdir):
    out = os.path.join(workdir, "raw_drain")
    cc = subprocess.run([os.environ.get("CC", "cc"), "-std=c11",
                         "-D_GNU_SOURCE", "-O2", "-o", out,
                         os.path.join(HERE, "raw_drain.c"),
                         "-lssl", "-lcrypto"], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=120)
    if cc.returncode != 0:
        log("raw_drain.c does not build, using the Python drain: %s" %
            cc.stdout.decode(errors="replace").strip()[-300:])
        return None
    return out


def build_fetch_index(workdir):
    """Build fetch_index against build/libimap.a; (path, None) or
    (None, why)."""
    mk = subprocess.run(["make", "-C", TOP, "build/libimap.a",
                         "build/libpn.a"], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=600)
    if mk.returncode != 0:
        return None, "make build/libimap.a failed: " + \
            mk.stdout.decode(errors="replace").strip()[-300:]
    out = os.path.join(workdir, "fetch_index")
    cc = subprocess.run([os.environ.get("CC", "cc"), "-std=c11",
                         "-D_GNU_SOURCE", "-O2", "-o", out,
                         os.path.join(HERE, "fetch_index.c"),
                         os.path.join(TOP, "build", "libimap.a"),
                         os.path.join(TOP, "build", "libpn.a"),
                         "-lssl", "-lcrypto", "-lz"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=120)
    if cc.returncode != 0:
        lines = cc.stdout.decode(errors="replace").strip().splitlines()
        why = "; ".join(l for l in lines if "error" in l)[:400]
        return None, "fetch_index does not link yet: " + (why or lines[-1])
    return out, None


def pick_postern(workdir):
    """The postern client to time: the CLI if it has `fetch`, else the
    libimap stand-in.  (client, None) or (None, why)."""
    postern = os.path.abspath(os.environ.get("POSTERN") or
                              os.path.join(TOP, "postern"))
    if os.access(postern, os.X_OK):
        p = subprocess.run([postern, "fetch", "--help"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=10)
        text = p.stdout.decode(errors="replace")
        if p.returncode == 0 and "unknown command" not in text:
            return PosternCli(postern, workdir), None
    binary, why = build_fetch_index(workdir)
    if binary:
        return PosternLib(binary), None
    return None, why


# ---- the run ---------------------------------------------------------------

class LogWatch:
    """Dovecot's per-session "out=" bytes, from the log."""

    def __init__(self, path):
        self.path = path
        self.pos = os.path.getsize(path) if os.path.exists(path) else 0

    def out_bytes(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                text = f.read().decode(errors="replace")
                self.pos = f.tell()
        except OSError:
            return None
        m = re.findall(r"imap\(%s\).*Disconnected.* out=(\d+)" % USER, text)
        return int(m[-1]) if m else None


def fill(info, count):
    maildir = os.path.join(info["mail_root"], USER)
    sys.path.insert(0, HERE)
    import gen_maildir
    t0 = time.monotonic()
    n, total = gen_maildir.generate(maildir, count)
    dovecot.fix_mail_owner(info)
    log("maildir: %d messages, %.1f MB, generated in %.1f s" % (
        n, total / 1e6, time.monotonic() - t0))


def fmt_s(x):
    return "%.2f" % x if x is not None else "n/a"


def fmt_mb(x):
    return "%.1f MB" % x if x is not None else "n/a"


def fmt_ratio(x):
    return "%.2fx" % x if x is not None else "n/a"


def verdict(ok):
    return "PASS" if ok else "MISS"


def bench(info, clients, runs, transports):
    """{(transport, client name): [Timed...]}, out bytes per client."""
    results = {}
    outb = {}
    watch = LogWatch(info["log"])
    for i, tls in enumerate(transports):
        tname = "tls" if tls else "plain"
        # what is left of the budget, shared by the transports to come
        stop_at = time.monotonic() + (DEADLINE[0] - time.monotonic()) / (
            len(transports) - i)
        for rnd in range(runs):
            if rnd > 0 and time.monotonic() > stop_at:
                log("  %s: time budget spent, %d rounds" % (tname, rnd))
                break
            for c in clients:
                r = c.run(info, tls)
                time.sleep(0.1)  # let Dovecot log the logout
                ob = watch.out_bytes()
                results.setdefault((tname, c.name), []).append(r)
                if r.rc != 0:
                    log("  %s %s run %d FAILED (exit %d): %s" % (
                        tname, c.name, rnd + 1, r.rc, r.err[-300:]))
                else:
                    outb[(tname, c.name)] = ob
                    log("  %-5s %-8s run %d: %6.3f s  cpu %6s  RSS %8s  "
                        "server out=%s" % (tname, c.name, rnd + 1, r.secs,
                                           fmt_s(r.cpu), fmt_mb(r.rss_mb),
                                           ob))
    return results, outb


def median(rs):
    xs = sorted(r.secs for r in rs if r.rc == 0)
    return "%.3f" % xs[len(xs) // 2] if xs else "-"


def best(rs):
    good = [r for r in rs if r.rc == 0]
    return min(good, key=lambda r: r.secs) if good else None


def report(results, outb, clients, transports):
    log("")
    log("%-6s %-8s %8s %8s %8s %9s %10s  %s" % (
        "", "client", "best s", "median", "cpu s", "max RSS", "server out",
        "what"))
    notes = {c.name: c.note for c in clients}
    for tls in transports:
        t = "tls" if tls else "plain"
        for c in clients:
            b = best(results.get((t, c.name), []))
            ob = outb.get((t, c.name))
            log("%-6s %-8s %8s %8s %8s %9s %10s  %s" % (
                t, c.name, "%.3f" % b.secs if b else "FAILED",
                median(results.get((t, c.name), [])),
                fmt_s(b.cpu) if b else "-",
                fmt_mb(b.rss_mb) if b else "-",
                "%d" % ob if ob else "-", notes[c.name]))
    log("")
    allok = True
    for tls in transports:
        t = "tls" if tls else "plain"
        bp = best(results.get((t, "postern"), []))
        braw = best(results.get((t, "raw"), []))
        bim = best(results.get((t, "imaplib"), []))
        bm = best(results.get((t, "mutt"), []))
        r_raw = bp.secs / braw.secs if bp and braw else None
        r_im = bim.secs / bp.secs if bp and bim else None
        r_mutt = bm.secs / bp.secs if bp and bm else None
        rsss = [r.rss_mb for r in results.get((t, "postern"), [])
                if r.rc == 0 and r.rss_mb is not None]
        rss = max(rsss) if rsss else None
        log("%s: postern/raw %s, imaplib/postern %s, mutt/postern %s, "
            "postern max RSS %s" % (t, fmt_ratio(r_raw), fmt_ratio(r_im),
                                    fmt_ratio(r_mutt),
                                    "%.1f MB" % rss if rss else "n/a"))
        # The server's time is in every row: no client can beat imaplib
        # by more than imaplib beats the raw drain.  Client CPU shows
        # what the clients themselves cost.
        ceil = bim.secs / braw.secs if bim and braw else None
        cpu_im = bim.cpu / bp.cpu if bim and bp and bim.cpu and bp.cpu \
            else None
        log("%s: imaplib/raw %s (the most any client can gain on imaplib "
            "here); client CPU imaplib/postern %s" % (
                t, fmt_ratio(ceil), fmt_ratio(cpu_im)))
        for name, ok in (
                ("postern <= %.1fx raw drain" % TARGET_RAW,
                 r_raw is not None and r_raw <= TARGET_RAW),
                ("postern >= %.0fx faster than imaplib" % TARGET_IMAPLIB,
                 r_im is not None and r_im >= TARGET_IMAPLIB),
                ("postern max RSS < %d MB" % TARGET_RSS_MB,
                 rss is not None and rss < TARGET_RSS_MB)):
            log("  %s  %s (%s)" % (verdict(ok), name, t))
            allok = allok and ok
    return allok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--no-mutt", action="store_true")
    ap.add_argument("--no-tls", action="store_true")
    ap.add_argument("--keep", metavar="DIR",
                    help="server dir to create and keep")
    ap.add_argument("--reuse", metavar="DIR",
                    help="a --keep dir from an earlier run (same count)")
    ap.add_argument("--budget", type=float, default=BUDGET,
                    help="seconds for the whole run (%d)" % BUDGET)
    a, _rest = ap.parse_known_args()
    t_start = time.monotonic()
    DEADLINE[0] = t_start + a.budget
    log("== bench/imap: open INBOX, UID FETCH 1:* (UID FLAGS INTERNALDATE "
        "RFC822.SIZE ENVELOPE), %d messages, Dovecot %s on 127.0.0.1" % (
            a.count, subprocess.run([dovecot.DOVECOT, "--version"],
                                    stdout=subprocess.PIPE).stdout.decode()
            .split()[0] if os.path.exists(dovecot.DOVECOT) else "?"))
    work = tempfile.mkdtemp(prefix="postern-bench-imap-")
    os.chmod(work, 0o755)  # Dovecot's unprivileged processes reach it
    sdir = a.reuse or a.keep or os.path.join(work, "server")
    failed = False
    try:
        try:
            info = dovecot.start(sdir)
        except dovecot.HarnessError as e:
            log("bench/imap: cannot start Dovecot: %s" % e)
            return 1
        try:
            if not a.reuse:
                fill(info, a.count)
            raw = Raw(build_raw_drain(work))
            clients = [raw, Imaplib()]
            pc, why = pick_postern(work)
            if pc:
                clients.insert(1, pc)
                log("postern: %s" % pc.note)
            else:
                log("postern: NOT TIMED: %s" % why)
                failed = True
            if not a.no_mutt:
                if shutil.which("mutt") and shutil.which("script"):
                    clients.append(Mutt(work))
                else:
                    log("mutt: not installed (sh tools/deps.sh bench); "
                        "skipped")
            # warm-up: Dovecot builds its index and cache on first open
            for i in range(3):
                r = raw.run(info, False)
                if r.rc != 0:
                    log("warm-up failed: %s" % r.err)
                    return 1
                log("warm-up %d (raw drain, plain): %.2f s%s" % (
                    i + 1, r.secs, " (Dovecot builds its index)"
                    if i == 0 and not a.reuse else ""))
            transports = [False] if a.no_tls else [False, True]
            results, outb = bench(info, clients, a.runs, transports)
            report(results, outb, clients, transports)
            for key, rs in results.items():
                if not any(r.rc == 0 for r in rs):
                    failed = True
        finally:
            dovecot.stop(sdir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log("bench/imap: %.0f s in all%s" % (
        time.monotonic() - t_start,
        "; some clients could not run" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
