#!/usr/bin/env python3
"""`postern probe` against a real Dovecot (TAP).

The harness (dovecot.py) starts Dovecot on 127.0.0.1 in a temporary
directory; it is stopped in a finally.  What probe reports is checked
against what the harness knows (ports, CA, PREAUTH tunnel) and against
Python's imaplib on the same server (message counts; flags unchanged
after a probe).  The binary is $POSTERN (default ./build/postern).
When the harness cannot start, every test fails saying why.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402 - next to this file
from clitest import (  # noqa: E402
    CTX,
    Fail,
    check,
    eq,
    imap,
    ok,
    run,
    run_on_tty,
    test)


SECTIONS = ["Connection", "TLS", "Greeting", "Capabilities", "Auth mechanisms", "Namespace",
            "Special-use folders", "Timings", "Extensions postern would use", "Warnings"]
EXTENSIONS = ["IDLE", "UIDPLUS", "MOVE", "CONDSTORE", "QRESYNC", "ESEARCH", "SORT", "THREAD",
              "LITERAL+", "BINARY", "SPECIAL-USE", "LIST-STATUS", "MULTIAPPEND",
              "COMPRESS=DEFLATE", "APPENDLIMIT", "UTF8=ACCEPT", "NAMESPACE", "ID", "ENABLE",
              "QUOTA", "ACL", "METADATA"]
KEYS = ["peer", "mode", "connect_ms", "tls_ms", "tls", "greeting", "preauth",
        "capabilities_before_starttls", "capabilities_before", "capabilities",
        "auth_mechanisms", "namespace", "special_use", "timings", "extensions", "warnings",
        "error"]


# ---- helpers -----------------------------------------------------------------


def probe_json(args):
    out = ok(["probe", "--json"] + args)
    eq(len(out.splitlines()), 1, "one JSON line")
    return json.loads(out)


def message(subject):
    return (b"From: Ann Example <ann@example.org>\r\nTo: bob@example.org\r\n"
            b"Subject: " + subject + b"\r\nDate: Wed, 25 Nov 2026 16:21:03 +0000\r\n"
            b"Message-ID: <" + subject.replace(b" ", b".") + b"@example.org>\r\n\r\nhello\r\n")


def append_some(n):
    c = imap()
    try:
        for i in range(n):
            typ, resp = c.append("INBOX", None, None, message(b"probe %d" % i))
            check(typ == "OK", "imaplib APPEND: %r" % resp)
    finally:
        c.logout()


def inbox_flags():
    """{uid: flags} of every INBOX message, read-only."""
    c = imap()
    try:
        typ, data = c.select("INBOX", readonly=True)
        check(typ == "OK", "EXAMINE")
        if int(data[0]) == 0:
            return {}
        typ, data = c.fetch("1:*", "(UID FLAGS)")
        out = {}
        for d in data:
            m = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", d)
            check(m, "FETCH line %r" % d)
            out[int(m.group(1))] = sorted(m.group(2).decode().split())
        return out
    finally:
        c.logout()


def inbox_count():
    c = imap()
    try:
        typ, data = c.select("INBOX", readonly=True)
        return int(data[0])
    finally:
        c.logout()


def sections(text):
    """The section titles of a human report, in order."""
    return [l for l in text.splitlines() if l and not l.startswith(" ")]


def value(text, key):
    """The value of the first '  key: value' line."""
    for l in text.splitlines():
        m = re.match(r"^  %s: +(.*)$" % re.escape(key), l)
        if m:
            return m.group(1)
    raise Fail("no %r line in %r" % (key, text))


def words(text, key):
    """The words of a '  key: w w w' line and its wrapped continuation lines."""
    lines = text.splitlines()
    for i, l in enumerate(lines):
        m = re.match(r"^  %s: +(.*)$" % re.escape(key), l)
        if not m:
            continue
        out = m.group(1).split()
        for c in lines[i + 1:]:
            if not c.startswith("    "):
                break
            out += c.split()
        return out
    raise Fail("no %r line in %r" % (key, text))


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---- tests -------------------------------------------------------------------

@test
def human_implicit_tls():
    append_some(3)
    out = ok(["probe", "dvs"]).decode()
    eq(sections(out), SECTIONS, "sections")
    eq(value(out, "mode"), "implicit TLS", "mode")
    eq(value(out, "peer"), "%s:%d" % (CTX["info"]["host"], CTX["info"]["imaps_port"]), "peer")
    check(re.match(r"^TLSv1\.[23]$", value(out, "version")), "version: %r" % out)
    check(value(out, "cipher"), "cipher")
    eq(value(out, "verified"), "yes", "verified")
    eq(value(out, "host match"), "yes", "host match")
    check(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ days left", value(out, "not after")),
          "not after: %r" % value(out, "not after"))
    check("postern test CA" in value(out, "issuer"), "issuer")
    check(re.match(r"^\d+\.\d ms$", value(out, "TLS handshake")), "handshake")
    eq(value(out, "PREAUTH"), "no", "PREAUTH")
    check("IDLE" in words(out, "after login"), "after login caps")
    check("AUTH=PLAIN" in words(out, "before login"), "before login caps")
    check("before STARTTLS" not in out, "no STARTTLS happened")
    check("PLAIN" in words(out, "offered"), "mechanisms")
    check(value(out, "personal").startswith('"" (delimiter "/")'), "namespace")
    eq(value(out, "\\Sent"), "Sent", "special use")
    eq(value(out, "IDLE"), "yes", "IDLE")
    eq(value(out, "UTF8=ACCEPT"), "no", "UTF8=ACCEPT (Dovecot's default lacks it)")
    n = inbox_count()
    check(re.match(r"^\d+\.\d ms, %d messages$" % n, value(out, "EXAMINE INBOX")),
          "EXAMINE: %r" % value(out, "EXAMINE INBOX"))
    check(re.match(r"^\d+\.\d ms, %d messages" % min(100, n), value(out, "FETCH ENVELOPE")),
          "FETCH: %r" % value(out, "FETCH ENVELOPE"))
    check(re.match(r"^\d+\.\d ms, \d+ mailboxes$", value(out, 'LIST "" "*"')), "LIST")


@test
def json_keys_and_types():
    append_some(2)
    d = probe_json(["dvs"])
    eq(list(d.keys()), KEYS, "keys in order")
    eq(d["mode"], "implicit", "mode")
    check(isinstance(d["peer"], str), "peer")
    check(is_num(d["connect_ms"]) and d["connect_ms"] >= 0, "connect_ms")
    check(is_num(d["tls_ms"]) and d["tls_ms"] >= 0, "tls_ms")
    t = d["tls"]
    eq(sorted(t.keys()), sorted(["version", "cipher", "subject", "issuer", "not_after",
                                 "days_left", "verified", "host_match"]), "tls keys")
    eq(t["verified"], True, "verified")
    eq(t["host_match"], True, "host_match")
    check(t["version"].startswith("TLSv1."), "version")
    check(is_num(t["days_left"]) and t["days_left"] > 0, "days_left")
    check(isinstance(d["greeting"], str) and d["greeting"], "greeting")
    eq(d["preauth"], False, "preauth")
    eq(d["capabilities_before_starttls"], None, "no STARTTLS")
    for k in ("capabilities_before", "capabilities", "auth_mechanisms", "warnings"):
        check(isinstance(d[k], list) and all(isinstance(x, str) for x in d[k]), k)
    check("IDLE" in d["capabilities"], "IDLE after login")
    check("PLAIN" in d["auth_mechanisms"], "PLAIN")
    ns = d["namespace"]
    eq(sorted(ns.keys()), ["other", "personal", "shared"], "namespace kinds")
    eq(ns["personal"], [{"prefix": "", "delimiter": "/"}], "personal namespace")
    check(isinstance(d["special_use"], list), "special_use")
    uses = {(x["name"], x["use"]) for x in d["special_use"]}
    for box, use in (("Sent", "\\Sent"), ("Trash", "\\Trash"), ("Drafts", "\\Drafts")):
        check((box, use) in uses, "%s %s in %r" % (box, use, uses))
    tm = d["timings"]
    eq(sorted(tm.keys()), sorted(["list_ms", "list_count", "examine_ms", "exists", "fetch_ms",
                                  "fetched"]), "timings keys")
    for k in tm:
        check(is_num(tm[k]) and tm[k] >= 0, "timings.%s = %r" % (k, tm[k]))
    eq(tm["exists"], inbox_count(), "exists")
    check(tm["exists"] > 0, "messages appended")
    eq(tm["fetched"], min(100, tm["exists"]), "fetched")
    check(tm["list_count"] >= 6, "mailboxes")
    eq(sorted(d["extensions"].keys()), sorted(EXTENSIONS), "extension keys")
    check(all(isinstance(v, bool) for v in d["extensions"].values()), "booleans")
    eq(d["extensions"]["IDLE"], True, "IDLE")
    eq(d["extensions"]["THREAD"], True, "THREAD (offered as THREAD=REFERENCES)")
    eq(d["error"], None, "error")


@test
def fetch_is_capped_at_100():
    n = inbox_count()
    if n <= 100:
        append_some(101 - n)
    d = probe_json(["dvs"])
    check(d["timings"]["exists"] > 100, "more than 100 messages")
    eq(d["timings"]["fetched"], 100, "fetched")


@test
def starttls_both_lists():
    out = ok(["probe", "dv"]).decode()
    eq(value(out, "mode"), "STARTTLS", "mode")
    before = words(out, "before STARTTLS")
    check("STARTTLS" in before, "STARTTLS offered in plaintext: %r" % before)
    check("STARTTLS" not in words(out, "before login"), "not after TLS")
    check("IDLE" in words(out, "after login"), "after login")
    eq(value(out, "verified"), "yes", "verified")
    d = probe_json(["dv"])
    eq(d["mode"], "STARTTLS", "json mode")
    check("STARTTLS" in d["capabilities_before_starttls"], "json before STARTTLS")
    check("STARTTLS" not in d["capabilities_before"], "json before login")
    check("IDLE" in d["capabilities"], "json after login")
    eq(d["tls"]["verified"], True, "verified")
    # Dovecot takes loopback as secure and offers AUTH=PLAIN in plaintext.
    check(any("before STARTTLS" in w for w in d["warnings"]), "warned: %r" % d["warnings"])


@test
def no_login_stops_early():
    d = probe_json(["dvs", "--no-login"])
    eq(d["timings"], None, "timings")
    eq(d["capabilities"], None, "no after-login capabilities")
    eq(d["namespace"], None, "no NAMESPACE")
    eq(d["special_use"], [], "no LIST")
    check("AUTH=PLAIN" in d["capabilities_before"], "before login")
    eq(d["tls"]["verified"], True, "TLS still reported")
    out = ok(["probe", "dvs", "--no-login"]).decode()
    for s in ("Timings", "Namespace", "Special-use folders"):
        check(s not in sections(out), "%s in %r" % (s, sections(out)))
    check("Extensions postern would use (before login)" in sections(out), "labelled")
    check("after login" not in out, "no after-login list")


@test
def unknown_ca_fails_one_line():
    info = CTX["info"]
    # "localhost": no account matches, so no cafile is borrowed.
    url = "imaps://alice@localhost:%d/" % info["imaps_port"]
    rc, out, err = run(["probe", url])
    eq(rc, 1, "status")
    eq(out, b"", "nothing on stdout")
    eq(len(err.splitlines()), 1, "one line: %r" % err)
    check(err.startswith("postern probe: ") and "certificate" in err, err)
    rc, out, err = run(["probe", url, "--json"])
    eq(rc, 1, "json status")
    d = json.loads(out)
    eq(list(d.keys()), KEYS, "keys")
    check("certificate" in d["error"], "error: %r" % d["error"])
    eq(d["tls"], None, "tls")
    eq(d["extensions"], None, "nothing learned")
    eq(len(err.splitlines()), 1, "one line on stderr too: %r" % err)


@test
def insecure_still_checks_host():
    info = CTX["info"]
    url = "imaps://alice@localhost:%d/" % info["imaps_port"]
    d = probe_json([url, "--insecure", "--no-login"])
    eq(d["tls"]["verified"], False, "not verified")
    eq(d["tls"]["host_match"], True, "the certificate names localhost")
    check(any("not verified" in w for w in d["warnings"]), "warned: %r" % d["warnings"])


@test
def wrong_password_exit_1():
    rc, out, err = run(["probe", "dvs", "--user", "bob", "--json"])
    eq(rc, 1, "status")
    d = json.loads(out)
    check(d["error"], "error set")
    check(CTX["info"]["users"]["alice"] not in d["error"], "password in the error")
    eq(d["tls"]["verified"], True, "what was learned before login is kept")
    eq(d["timings"], None, "no timings")


@test
def preauth_tunnel():
    cmd = CTX["info"]["preauth_cmd"]
    d = probe_json(["--tunnel", cmd])
    eq(d["preauth"], True, "preauth")
    eq(d["tls"], None, "no TLS")
    eq(d["mode"], "tunnel", "mode")
    eq(d["tls_ms"], None, "no handshake")
    eq(d["auth_mechanisms"], [], "no mechanisms after PREAUTH")
    check(d["timings"] is not None and d["timings"]["exists"] == inbox_count(), "timings")
    out = ok(["probe", "--tunnel", cmd]).decode()
    check("TLS" not in sections(out), "no TLS section")
    check(value(out, "PREAUTH").startswith("yes"), "PREAUTH line")


FAKE_SERVER = r"""
import sys
out = sys.stdout.buffer
out.write(b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] evil \x1b]0;pwned\x07 \x1b[31mred \xe2\x80\xaeabc\r\n")
out.flush()
for line in sys.stdin.buffer:
    tag, _, cmd = line.strip().partition(b" ")
    if cmd.upper().startswith(b"LOGOUT"):
        out.write(b"* BYE bye\r\n" + tag + b" OK done\r\n")
        out.flush()
        break
    out.write(tag + b" NO not here\r\n")
    out.flush()
"""


@test
def greeting_sanitised_on_a_tty():
    script = os.path.join(CTX["tmp"], "fake_server.py")
    with open(script, "w") as f:
        f.write(FAKE_SERVER)
    tunnel = "%s %s" % (sys.executable, script)
    rc, seen = run_on_tty(["probe", "--tunnel", tunnel, "--no-login"])
    eq(rc, 0, "status")
    check(b"evil" in seen and b"red" in seen, "greeting shown: %r" % seen)
    check(b"\x1b" not in seen and b"\x07" not in seen, "control bytes reached the tty: %r" % seen)
    check("\u202e".encode() not in seen, "bidi override reached the tty")
    raw = ok(["probe", "--tunnel", tunnel, "--no-login", "--json"])
    check(b"\\u001b" in raw, "JSON escapes ESC: %r" % raw)
    eq(json.loads(raw)["preauth"], True, "preauth")


@test
def maildir_refused():
    md = os.path.join(CTX["tmp"], "Mail")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    for target in (md, "maildir:" + md):
        rc, out, err = run(["probe", target])
        eq(rc, 2, "status for %s" % target)
        eq(out, b"", "nothing on stdout")
        eq(len(err.splitlines()), 1, "one line: %r" % err)
        check("is a Maildir" in err and "imap://" in err, "hint: %r" % err)


@test
def read_only():
    append_some(2)
    before = inbox_flags()
    check(before and all("\\Seen" not in f for f in before.values()), "unseen to begin with")
    ok(["probe", "dvs"])
    ok(["probe", "dv", "--json"])
    eq(inbox_flags(), before, "flags after probing")


@test
def usage_errors():
    rc, out, err = run(["probe"])
    eq(rc, 2, "no target")
    check("missing TARGET" in err, err)
    rc, out, err = run(["probe", "dvs", "extra"])
    eq(rc, 2, "extra argument")
    out = ok(["probe", "--help"]).decode()
    check(out.startswith("usage: postern probe TARGET"), out)
    check("probe" in ok(["--help"]).decode(), "listed in postern --help")


# ---- driver -----------------------------------------------------------------------


if __name__ == "__main__":
    sys.exit(clitest.main("postern-probe-"))
