#!/usr/bin/env python3
"""test_hostile.py - `postern ls` against a hostile server (TAP).

Each case starts tests/integration/hostile_server.py with one scenario on
127.0.0.1, runs `$POSTERN ls imap://alice@127.0.0.1:PORT/` (or imaps://)
with a time limit, an address-space limit and its max RSS measured, then
checks: no crash (the exit status is not a signal), refused with a clear
error (non-zero exit, a short error naming the problem) where refusing is
the only right answer, bounded time and memory, and, from the server's
record of what the client sent, that no LOGIN or AUTHENTICATE crossed
the connection before TLS.

The binary is $POSTERN (default ./build/postern).  The password comes
from a config file in a temporary $XDG_CONFIG_HOME whose account uses
password_command (see client_setup()).
"""

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import hostile_server  # noqa: E402

POSTERN = os.path.abspath(os.environ.get("POSTERN") or
                          os.path.join(REPO, "build", "postern"))
PASSWORD = "hostile-test-secret"
TIME_LIMIT = 20.0		# seconds for one run; the client's own read
				# timeout must not be what ends a case
RSS_LIMIT_MB = 40
AS_LIMIT = 1 << 30		# address space for a non-ASan build
GNU_TIME = "/usr/bin/time"

n = 0
failed = 0


def tap(cond, name, diag=None):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
    if not cond:
        failed += 1
        for line in str(diag or "").splitlines():
            print("# " + line)
    sys.stdout.flush()
    return cond


def is_asan(path):
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


ASAN = is_asan(POSTERN)


class Run:
    """One finished client run: rc (negative: signal), out, err, secs,
    rss_mb, timed_out."""

    def __init__(self, argv, env):
        self.argv = argv

        def limits():
            if not ASAN:
                resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # The max RSS: a child forked from this Python process keeps
        # Python's pages in its high-water mark across exec, so GNU time
        # (a small process) forks the client when it is there; otherwise
        # wait4's figure, which overstates (safe for a "below" check).
        rssf = None
        full = list(argv)
        if os.access(GNU_TIME, os.X_OK):
            rssf = tempfile.NamedTemporaryFile(prefix="rss-", delete=False)
            rssf.close()
            full = [GNU_TIME, "-f", "%x %M", "-o", rssf.name] + full
        t0 = time.monotonic()
        outf = tempfile.TemporaryFile()
        errf = tempfile.TemporaryFile()
        p = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=outf,
                             stderr=errf, env=env, preexec_fn=limits,
                             start_new_session=True)
        self.timed_out = False
        rusage = None
        while True:
            pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > TIME_LIMIT:
                self.timed_out = True
                os.killpg(p.pid, signal.SIGKILL)
                pid, status, rusage = os.wait4(p.pid, 0)
                break
            time.sleep(0.02)
        p.returncode = 0  # reaped by wait4; keep Popen quiet
        self.secs = time.monotonic() - t0
        if os.WIFSIGNALED(status):
            self.rc = -os.WTERMSIG(status)
        else:
            self.rc = os.WEXITSTATUS(status)
        self.rss_mb = rusage.ru_maxrss / 1024.0
        if rssf:
            self._from_gnu_time(rssf.name)
        outf.seek(0)
        errf.seek(0)
        self.out = outf.read().decode(errors="replace")
        self.err = errf.read().decode(errors="replace")

    def _from_gnu_time(self, path):
        """GNU time's "%x %M": the client's exit code (or, when a signal
        ended it, "Command terminated by signal N" on a line before)."""
        try:
            with open(path) as f:
                text = f.read()
        finally:
            os.unlink(path)
        m = re.search(r"terminated by signal (\d+)", text)
        last = text.split()
        if self.timed_out:
            return
        if m:
            self.rc = -int(m.group(1))
        if len(last) >= 2 and last[-1].isdigit():
            self.rss_mb = int(last[-1]) / 1024.0
            if not m and last[-2].lstrip("-").isdigit():
                self.rc = int(last[-2])

    def err_lines(self):
        return [x for x in self.err.splitlines() if x.strip()]

    def describe(self):
        return ("command: %s\nexit %d after %.1f s, max RSS %.1f MB%s\n"
                "stdout: %s\nstderr: %s" % (
                    " ".join(self.argv), self.rc, self.secs, self.rss_mb,
                    " (killed: time limit)" if self.timed_out else "",
                    self.out[:600], self.err[:1200]))


def client_setup(tmp, ca):
    """Environment for the client: a config whose account supplies the
    password through password_command, so nothing waits on a prompt."""
    cfgdir = os.path.join(tmp, "config", "postern")
    os.makedirs(cfgdir, exist_ok=True)
    cfg = os.path.join(cfgdir, "config")
    with open(cfg, "w") as f:
        f.write("# test_hostile.py\n"
                "[account hostile]\n"
                "host = 127.0.0.1\n"
                "user = alice\n"
                "password_command = echo %s\n"
                "cafile = %s\n" % (PASSWORD, ca))
    os.chmod(cfg, 0o600)
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = os.path.join(tmp, "config")
    env["HOME"] = tmp
    env.pop("POSTERN_TRACE", None)
    return env


def client_argv(scheme, port, ca, tls=None, cafile=True, cmd=None):
    argv = [POSTERN] + (cmd or ["ls"])
    argv.insert(2, "%s://alice@127.0.0.1:%d/" % (scheme, port))
    if tls:
        argv += ["--tls", tls]
    if cafile:
        argv += ["--cafile", ca]
    return argv


def cli_ready():
    """None when `postern ls` exists, else why not."""
    if not os.access(POSTERN, os.X_OK):
        return "postern binary not found at %s (set $POSTERN)" % POSTERN
    try:
        p = subprocess.run([POSTERN, "ls", "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "postern ls --help did not finish in 10 s"
    text = p.stdout.decode(errors="replace")
    if p.returncode != 0 or "unknown command" in text:
        return "postern ls is not available yet: %s" % text.strip()[:200]
    return None


# ---- checks shared by the cases ----

def no_crash(r):
    return r.rc >= 0 and not r.timed_out and \
        "AddressSanitizer" not in r.err and "runtime error" not in r.err


def clear_refusal(r, pattern):
    """Non-zero exit, a short error (at most two non-empty lines) that
    matches pattern (case-insensitive)."""
    lines = r.err_lines()
    return (r.rc > 0 and 1 <= len(lines) <= 2 and
            re.search(pattern, r.err, re.I) is not None)


def case(name, srv, r, *checks):
    """checks: (description, bool) pairs, all must hold."""
    bad = [d for d, c in checks if not c]
    diag = r.describe()
    if bad:
        diag = "failed: " + "; ".join(bad) + "\n" + diag
        lines = srv.lines()
        diag += "\nclient sent: %r" % [(p, l[:80]) for _n, p, l in lines]
    tap(not bad, name, diag)
    if not bad:
        # what the client said, for the log (TAP comments)
        first = (r.err_lines() or ["(no error output)"])[0]
        print("# exit %d, %.2f s, max RSS %.1f MB: %s" % (
            r.rc, r.secs, r.rss_mb, first[:300]))


def run_case(env, ca, certs, scenario, scheme="imap", tls=None,
             cafile=True, cmd=None):
    srv = hostile_server.HostileServer(scenario, certs).start()
    try:
        r = Run(client_argv(scheme, srv.port, ca, tls, cafile, cmd), env)
        time.sleep(0.1)  # let the server threads record the last lines
    finally:
        srv.stop()
    return srv, r


def main():
    print("1..16")
    why = cli_ready()
    if why:
        for i in range(16):
            tap(False, "hostile case %d cannot run" % (i + 1), why)
        return
    tmp = tempfile.mkdtemp(prefix="postern-hostile-")
    try:
        certs = hostile_server.certs_in(os.path.join(tmp, "tls"))
        ca = certs["ca"]
        env = client_setup(tmp, ca)
        rss_limit = RSS_LIMIT_MB * (8 if ASAN else 1)

        # 1. the setup itself: a well-behaved server is listed
        srv, r = run_case(env, ca, certs, "good", tls="starttls")
        case("good server: ls lists INBOX over STARTTLS (the setup works)",
             srv, r, ("exit 0", r.rc == 0), ("INBOX listed", "INBOX" in r.out),
             ("login only after TLS", not srv.sent_credentials("plain")))

        # 2-3. injected responses after STARTTLS OK: discarded or refused
        for tls in ("starttls", None):
            srv, r = run_case(env, ca, certs, "starttls-injection", tls=tls)
            tls_lines = srv.lines("tls")
            recap = bool(tls_lines) and \
                tls_lines[0][2].split(b" ")[1:2] == [b"CAPABILITY"]
            # success only counts with the capabilities asked again
            # over TLS (CVE-2020-14954/CVE-2021-22946: not taken from
            # the injected [CAPABILITY ...] sent before the handshake)
            ok_path = r.rc == 0 and "INJECTED" not in r.out and \
                "INBOX" in r.out and recap
            refused = clear_refusal(r, r"starttls|tls|inject|unexpected|"
                                    r"before")
            case("starttls-injection%s: injected data ignored or refused,"
                 " no password in plaintext" % (
                     " --tls starttls" if tls else " (default on loopback)"),
                 srv, r, ("no crash", no_crash(r)),
                 ("listed without INJECTED after a new CAPABILITY, or "
                  "refused clearly",
                  ok_path or refused),
                 ("no LOGIN/AUTHENTICATE before TLS",
                  not srv.sent_credentials("plain")))

        # 4-6. STARTTLS required but unavailable
        for sc, pat in (("starttls-refused", r"starttls"),
                        ("starttls-bad", r"starttls"),
                        ("no-starttls", r"starttls")):
            srv, r = run_case(env, ca, certs, sc, tls="starttls")
            case("%s --tls starttls: refused, names STARTTLS, no password"
                 % sc, srv, r, ("no crash", no_crash(r)),
                 ("clear one-line refusal naming STARTTLS",
                  clear_refusal(r, pat)),
                 ("no LOGIN/AUTHENTICATE sent",
                  not srv.sent_credentials(None)))

        # 7. PREAUTH on a plain connection when TLS is required
        srv, r = run_case(env, ca, certs, "preauth-plaintext",
                          tls="starttls")
        listed = any(l.split(b" ")[1:2] in ([b"LIST"], [b"LSUB"])
                     for _n, _p, l in srv.lines())
        case("preauth-plaintext --tls starttls: refused, names PREAUTH",
             srv, r, ("no crash", no_crash(r)),
             ("clear refusal naming PREAUTH", clear_refusal(r, r"preauth")),
             ("no LIST sent over the unencrypted session", not listed))

        # 8. a 5 GB literal announced, trickled slowly
        srv, r = run_case(env, ca, certs, "huge-literal")
        case("huge-literal: {5000000000} refused by size, bounded",
             srv, r, ("no crash", no_crash(r)),
             ("clear refusal naming the literal",
              clear_refusal(r, r"literal")),
             ("under %.0f s" % (TIME_LIMIT / 2), r.secs < TIME_LIMIT / 2),
             ("max RSS < %d MB" % rss_limit, r.rss_mb < rss_limit))

        # 9. sequence-set bomb: never expanded
        srv, r = run_case(env, ca, certs, "seqset-bomb")
        case("seqset-bomb: 1:4294967295 and 100k-number sets, bounded",
             srv, r, ("no crash", no_crash(r)),
             ("lists INBOX or refuses clearly",
              (r.rc == 0 and "INBOX" in r.out) or
              clear_refusal(r, r"sequence|search|limit|list|items")),
             ("under 5 s", r.secs < 5),
             ("max RSS < %d MB" % rss_limit, r.rss_mb < rss_limit))

        # 10-11. the bomb against fetch: 4294967295 EXISTS, SEARCH and
        # ESEARCH answers of every shape; nothing may be per message
        for extra in ([], ["--search", "ALL"]):
            srv, r = run_case(env, ca, certs, "seqset-bomb",
                              cmd=["fetch", "INBOX"] + extra)
            case("seqset-bomb: %s with 4294967295 EXISTS, bounded" %
                 " ".join(["fetch INBOX"] + extra), srv, r,
                 ("no crash", no_crash(r)),
                 ("exit 0 or a clear refusal",
                  r.rc == 0 or clear_refusal(r, r".")),
                 ("under 5 s", r.secs < 5),
                 ("max RSS < %d MB" % rss_limit, r.rss_mb < rss_limit))

        # 12. connection dropped inside a literal
        srv, r = run_case(env, ca, certs, "disconnect-mid-literal")
        case("disconnect-mid-literal: error names the drop",
             srv, r, ("no crash", no_crash(r)),
             ("clear refusal naming the closed connection",
              clear_refusal(r, r"clos|disconnect|eof|literal")),
             ("under 5 s", r.secs < 5))

        # 13. garbage greeting
        srv, r = run_case(env, ca, certs, "garbage")
        case("garbage: refused, no password", srv, r,
             ("no crash", no_crash(r)),
             ("clear refusal", clear_refusal(r, r"greeting|response|"
                                             r"protocol|pars|invalid|bad")),
             ("no LOGIN/AUTHENTICATE sent", not srv.sent_credentials(None)),
             ("under 5 s", r.secs < 5))

        # 14. BYE greeting
        srv, r = run_case(env, ca, certs, "bye-greeting")
        case("bye-greeting: refused with the server's reason", srv, r,
             ("no crash", no_crash(r)),
             ("clear refusal naming BYE or its text",
              clear_refusal(r, r"bye|too many connections")),
             ("no LOGIN/AUTHENTICATE sent", not srv.sent_credentials(None)))

        # 15-16. certificate failures over implicit TLS
        srv, r = run_case(env, ca, certs, "wrong-host-cert", scheme="imaps")
        case("wrong-host-cert: refused, names the host mismatch", srv, r,
             ("no crash", no_crash(r)),
             ("clear refusal naming the name mismatch",
              clear_refusal(r, r"host|name|mismatch|match")),
             ("nothing sent", not srv.lines()))
        srv, r = run_case(env, ca, certs, "self-signed-cert",
                          scheme="imaps", cafile=False)
        case("self-signed-cert without --cafile: refused, names it",
             srv, r, ("no crash", no_crash(r)),
             ("clear refusal naming self-signed",
              clear_refusal(r, r"self.signed")),
             ("nothing sent", not srv.lines()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.exit(1 if failed or n == 0 else 0)
