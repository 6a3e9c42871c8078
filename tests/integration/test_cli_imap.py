#!/usr/bin/env python3
"""`postern ls`, `fetch` and `append` against a real Dovecot (TAP).

The harness (dovecot.py) starts Dovecot on 127.0.0.1 in a temporary
directory; it is stopped in a finally.  Every byte-level claim is checked
against Python's imaplib on the same server: what postern appends, imaplib
fetches byte-identical, and what imaplib appends, `postern fetch --raw`
writes byte-identical.  The binary is $POSTERN (default ./build/postern).
When the harness cannot start, every test fails saying why.
"""

import base64
import imaplib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402 - next to this file
from clitest import (  # noqa: E402
    ATTACHMENT,
    CTX,
    appended,
    check,
    eq,
    imap,
    imap_append,
    imap_fetch_raw,
    message,
    multipart,
    mutf7,
    ok,
    run,
    run_on_tty,
    test)


# ---- helpers -----------------------------------------------------------------


def imap_flags(mailbox, uid):
    c = imap()
    try:
        c.select(mailbox, readonly=True)
        typ, data = c.uid("FETCH", str(uid), "(FLAGS INTERNALDATE)")
        return data[0].decode()
    finally:
        c.logout()


def imap_count(mailbox):
    c = imap()
    try:
        typ, data = c.select(mailbox, readonly=True)
        return int(data[0])
    finally:
        c.logout()


def write(name, data):
    path = os.path.join(CTX["tmp"], name)
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---- ls ---------------------------------------------------------------------

@test
def ls_lists_special_use():
    out = ok(["ls", "dv"]).decode()
    lines = out.splitlines()
    eq(lines[0], "INBOX", "INBOX first")
    for box, use in (("Sent", "\\Sent"), ("Trash", "\\Trash"), ("Drafts", "\\Drafts")):
        check(any(re.match(r"^%s +%s$" % (box, re.escape(use)), l) for l in lines),
              "%s %s in %r" % (box, use, out))


@test
def ls_status_json_counts():
    box = "Counted"
    c = imap()
    c.create(box)
    c.logout()
    for i in range(3):
        imap_append(box, message(b"count %d" % i), "\\Seen" if i == 0 else None)
    recs = [json.loads(l) for l in ok(["ls", "dv", "--status", "--json"]).splitlines()]
    r = [x for x in recs if x["name"] == box]
    eq(len(r), 1, "one record")
    r = r[0]
    eq((r["messages"], r["unseen"], r["uidnext"]), (3, 2, 4), "counters")
    check(r["uidvalidity"] > 0, "uidvalidity")
    check(r["size"] > 0, "size (STATUS=SIZE)")
    for k in ("name", "raw_name", "delimiter", "attributes", "special_use"):
        check(k in r, "key " + k)
    out = ok(["ls", "dv", "--status"]).decode()
    eq(out.splitlines()[0].split(), ["MAILBOX", "USE", "MESSAGES", "UNSEEN", "UIDNEXT",
                                     "UIDVALIDITY", "SIZE"], "header")
    row = [l for l in out.splitlines() if l.startswith(box + " ")][0].split()
    eq(row[1:4], ["3", "2", "4"], "plain row")


@test
def ls_non_ascii_name():
    name = "Entwürfe ☃"
    c = imap()
    typ, _ = c.create('"%s"' % mutf7(name))
    c.logout()
    eq(typ, "OK", "imaplib CREATE")
    out = ok(["ls", "dv"]).decode("utf-8")
    check(name in out.splitlines(), "decoded name in %r" % out)
    recs = [json.loads(l) for l in ok(["ls", "dv", "--json"]).splitlines()]
    r = [x for x in recs if x["name"] == name]
    eq(len(r), 1, "json record")
    eq(r[0]["raw_name"], mutf7(name), "raw name")


# ---- append ---------------------------------------------------------------------

@test
def append_one_cross_checked():
    data = message(b"single append", b"line one\r\nline two\r\n")
    path = write("one.eml", data)
    rows = appended(ok(["append", "dv", "INBOX", path]))
    eq(len(rows), 1, "one line")
    eq(rows[0][0], path, "label")
    eq(imap_fetch_raw("INBOX", rows[0][1]), data, "imaplib sees the same bytes")


@test
def append_several():
    datas = [message(b"multi %d" % i) for i in range(3)]
    paths = [write("multi%d.eml" % i, d) for i, d in enumerate(datas)]
    rows = appended(ok(["append", "dv", "INBOX"] + paths))
    eq([r[0] for r in rows], paths, "labels in order")
    uids = [r[1] for r in rows]
    eq(uids, list(range(uids[0], uids[0] + 3)), "consecutive UIDs")
    for d, u in zip(datas, uids):
        eq(imap_fetch_raw("INBOX", u), d, "UID %d" % u)


@test
def append_stdin():
    data = message(b"from stdin")
    rows = appended(ok(["append", "dv", "INBOX", "-"], stdin=data))
    eq(rows[0][0], "-", "label")
    eq(imap_fetch_raw("INBOX", rows[0][1]), data, "bytes")


@test
def append_lf_file_converted():
    data = message(b"lf endings", b"a\r\nb\r\n").replace(b"\r\n", b"\n")
    rows = appended(ok(["append", "dv", "INBOX", write("lf.eml", data)]))
    eq(imap_fetch_raw("INBOX", rows[0][1]), data.replace(b"\n", b"\r\n"), "CRLF on the server")


@test
def append_refuses_non_message():
    before = imap_count("INBOX")
    bad = write("notes.txt", b"just some notes\nnothing else\n")
    good = write("good.eml", message(b"never sent"))
    rc, out, err = run(["append", "dv", "INBOX", good, bad])
    eq(rc, 1, "status")
    eq(err, "postern append: %s: not a mail message (no header fields before the first "
       "blank line)\npostern append: nothing appended\n" % bad, "error")
    eq(imap_count("INBOX"), before, "nothing appended")


@test
def append_flags_and_date():
    path = write("flagged.eml", message(b"flagged"))
    rows = appended(ok(["append", "dv", "INBOX", path, "--flags", "\\Seen \\Flagged $Work",
                        "--date", "Tue, 3 Mar 2026 10:20:30 +0100"]))
    got = imap_flags("INBOX", rows[0][1])
    for f in ("\\Seen", "\\Flagged", "$Work"):
        check(f in got, "%s in %r" % (f, got))
    # Maildir keeps the instant (as the file's mtime), not the zone.
    when = imaplib.Internaldate2tuple(got.encode())
    check(when is not None and time.mktime(when) == 1772529630, "date in %r" % got)


@test
def append_many_in_batches():
    box = "Batches"
    c = imap()
    c.create(box)
    c.logout()
    datas = [message(b"batch %d" % i).replace(b"\r\n", b"\n" if i % 2 else b"\r\n")
             for i in range(130)]
    paths = [write("batch%03d.eml" % i, d) for i, d in enumerate(datas)]
    rows = appended(ok(["append", "dv", box] + paths))
    eq([r[0] for r in rows], paths, "one line per file, in order")
    eq(imap_count(box), 130, "all there")
    for i in (0, 1, 99, 100, 129):
        eq(imap_fetch_raw(box, rows[i][1]), datas[i].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
           "file %d" % i)


@test
def append_fifo_and_directory():
    data = message(b"through a fifo")
    fifo = os.path.join(CTX["tmp"], "fifo")
    os.mkfifo(fifo)
    p = subprocess.Popen(["sh", "-c", "cat > '%s'" % fifo], stdin=subprocess.PIPE)
    rows = None
    try:
        p.stdin.write(data)
        p.stdin.close()
        rows = appended(ok(["append", "dv", "INBOX", fifo]))
    finally:
        p.wait(timeout=30)
    eq(imap_fetch_raw("INBOX", rows[0][1]), data, "bytes")
    rc, out, err = run(["append", "dv", "INBOX", CTX["tmp"]])
    eq(rc, 1, "directory status")
    eq(err, "postern append: %s: is a directory\npostern append: nothing appended\n" % CTX["tmp"],
       "directory error")


@test
def append_unknown_mailbox():
    rc, out, err = run(["append", "dv", "NoSuchBox", write("x.eml", message(b"x"))])
    eq(rc, 1, "status")
    eq(len(err.splitlines()), 1, "one line: %r" % err)
    check("NoSuchBox" in err or "TRYCREATE" in err, err)


# ---- fetch ---------------------------------------------------------------------

@test
def fetch_raw_of_imaplib_append():
    data = message(b"=?utf-8?q?imaplib_=C3=A9?=", b"8bit: \xc3\xa9\r\nbin \x01\x7f\r\n",
                   b"X-Odd:  spaced\t tab \r\n")
    uid = imap_append("INBOX", data)
    eq(ok(["fetch", "dv", "INBOX", "--raw", "--uid", str(uid)]), data, "byte-identical")


@test
def fetch_list_and_json():
    uid = imap_append("INBOX", message(b"=?utf-8?q?list_me_=E2=9C=93?="))
    out = ok(["fetch", "dv", "INBOX", "--uid", str(uid)]).decode()
    lines = out.splitlines()
    eq(len(lines), 2, "header and one row: %r" % out)
    eq(lines[0].split(), ["UID", "FLAGS", "DATE", "SIZE", "FROM", "SUBJECT"], "header")
    check(lines[1].split()[0] == str(uid), "uid first")
    check(lines[1].endswith("list me ✓"), "decoded subject: %r" % lines[1])
    check("Ann Example <ann@example.org>" in lines[1], "from")
    rec = json.loads(ok(["fetch", "dv", "INBOX", "--uid", str(uid), "--json"]))
    eq(rec["uid"], uid, "uid")
    eq(rec["subject"], "list me ✓", "subject")
    eq(rec["from"], [{"name": "Ann Example", "address": "ann@example.org"}], "from")
    eq(rec["size"], len(message(b"=?utf-8?q?list_me_=E2=9C=93?=")), "size")
    check(re.match(r"^\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}$", rec["internaldate"]),
          "internaldate %r" % rec["internaldate"])


@test
def fetch_sanitises_for_a_terminal():
    uid = imap_append("INBOX", message(b"evil \x1b]0;pwned\x07 \x1b[31mred \xe2\x80\xaeabc"))
    rc, seen = run_on_tty(["fetch", "dv", "INBOX", "--uid", str(uid)])
    eq(rc, 0, "status")
    check(b"evil" in seen and b"red" in seen, "subject shown: %r" % seen)
    check(b"\x1b" not in seen and b"\x07" not in seen, "control bytes reached the tty: %r" % seen)
    check("\u202e".encode() not in seen, "bidi override reached the tty")
    raw = ok(["fetch", "dv", "INBOX", "--uid", str(uid), "--json"])
    check(b"\\u001b" in raw, "JSON escapes ESC: %r" % raw)


@test
def fetch_is_read_only():
    uid = imap_append("INBOX", message(b"stay unseen"))
    ok(["fetch", "dv", "INBOX", "--raw", "--uid", str(uid)])
    ok(["fetch", "dv", "INBOX", "--part", "1", "--uid", str(uid)])
    check("\\Seen" not in imap_flags("INBOX", uid), "still unseen")


@test
def fetch_output_dir():
    uids = [imap_append("INBOX", message(b"dir %d" % i)) for i in range(2)]
    d = os.path.join(CTX["tmp"], "outdir")
    sel = "%d,%d" % tuple(uids)
    out = ok(["fetch", "dv", "INBOX", "--raw", "--uid", sel, "-o", d]).decode()
    for u in uids:
        p = os.path.join(d, "%d.eml" % u)
        eq(open(p, "rb").read(), imap_fetch_raw("INBOX", u), p)
        check("wrote %s (" % p in out, "report line for %s" % p)
    rc, out, err = run(["fetch", "dv", "INBOX", "--raw", "--uid", sel, "-o", d])
    eq(rc, 1, "second run status")
    eq(err, "".join("postern fetch: %s/%d.eml exists; not overwritten\n" % (d, u) for u in uids),
       "refusal")


@test
def fetch_raw_stdout_needs_one():
    uids = [imap_append("INBOX", message(b"two %d" % i)) for i in range(2)]
    rc, out, err = run(["fetch", "dv", "INBOX", "--raw", "--uid", "%d,%d" % tuple(uids)])
    eq(rc, 1, "status")
    eq(out, b"", "nothing written")
    check("2 messages match; stdout takes one" in err, err)


@test
def fetch_part_and_structure():
    uid = imap_append("INBOX", multipart(b"with attachment"))
    eq(ok(["fetch", "dv", "INBOX", "--uid", str(uid), "--part", "2"]), ATTACHMENT, "decoded part")
    enc = ok(["fetch", "dv", "INBOX", "--uid", str(uid), "--part", "2", "--encoded"])
    eq(enc, imap_fetch_raw("INBOX", uid, "BODY.PEEK[2]"), "encoded part")
    eq(ok(["fetch", "dv", "INBOX", "--uid", str(uid), "--part", "1"]), b"see attached", "text part (the CRLF before a boundary is the boundary's)")
    out = ok(["fetch", "dv", "INBOX", "--uid", str(uid), "--structure"]).decode()
    lines = out.splitlines()
    eq(lines[0], "UID %d" % uid, "head")
    check(re.search(r"^\s+-\s+multipart/mixed\b", lines[1]), lines[1])
    check(re.search(r"^\s+1\s+text/plain\s+\d+\s+utf-8$", lines[2]), lines[2])
    check(re.search(r"^\s+2\s+application/octet-stream\s+\d+\s+attachment\s+data\.bin$", lines[3]), lines[3])
    rec = json.loads(ok(["fetch", "dv", "INBOX", "--uid", str(uid), "--structure", "--json"]))
    parts = rec["structure"]["parts"]
    eq([p["section"] for p in parts], ["1", "2"], "sections")
    eq(parts[1]["filename"], "data.bin", "filename")
    eq(parts[1]["encoding"].lower(), "base64", "encoding")
    d = os.path.join(CTX["tmp"], "partdir")
    ok(["fetch", "dv", "INBOX", "--uid", str(uid), "--part", "2", "-o", d])
    eq(open(os.path.join(d, "%d-2" % uid), "rb").read(), ATTACHMENT, "part file")


@test
def fetch_search():
    uid = imap_append("INBOX", message(b"needle-7731"))
    out = ok(["fetch", "dv", "INBOX", "--search", "SUBJECT needle-7731", "--json"])
    eq([json.loads(l)["uid"] for l in out.splitlines()], [uid], "found")
    out = ok(["fetch", "dv", "INBOX", "--search", "SUBJECT no-such-thing-4242"])
    eq(out, b"", "nothing found, nothing printed")


@test
def fetch_headers():
    uid = imap_append("INBOX", message(b"headers only"))
    eq(ok(["fetch", "dv", "INBOX", "--uid", str(uid), "--headers"]),
       imap_fetch_raw("INBOX", uid, "BODY.PEEK[HEADER]"), "header block")


@test
def fetch_big_message_streams():
    body = base64.encodebytes(os.urandom(6 * 1024 * 1024)).replace(b"\n", b"\r\n")
    data = message(b"big", body)
    path = write("big.eml", data)
    rows = appended(ok(["append", "dv", "INBOX", path]))
    eq(imap_fetch_raw("INBOX", rows[0][1]), data, "imaplib sees postern's append")
    out = ok(["fetch", "dv", "INBOX", "--raw", "--uid", str(rows[0][1])])
    eq(out, data, "postern fetches it back")


@test
def fetch_unknown_mailbox():
    rc, out, err = run(["fetch", "dv", "NoSuchBox"])
    eq(rc, 1, "status")
    eq(len(err.splitlines()), 1, "one line: %r" % err)
    check(err.startswith("postern fetch: NoSuchBox: "), err)


# ---- targets ---------------------------------------------------------------------

@test
def target_implicit_tls_account_and_url():
    out = ok(["ls", "dvs"]).decode()
    check("INBOX" in out.splitlines(), "account over imaps")
    info = CTX["info"]
    url = "imaps://alice@127.0.0.1:%d/" % info["imaps_port"]
    check("INBOX" in ok(["ls", url, "--cafile", info["ca"]]).decode().splitlines(), "URL")
    uid = imap_append("INBOX", message(b"url mailbox"))
    url = "imaps://alice@127.0.0.1:%d/INBOX/;UID=%d" % (info["imaps_port"], uid)
    eq(ok(["fetch", url, "--raw", "--cafile", info["ca"]]), imap_fetch_raw("INBOX", uid),
       "URL with mailbox and UID")
    eq(ok(["fetch", url + "/;SECTION=HEADER", "--cafile", info["ca"]]),
       imap_fetch_raw("INBOX", uid, "BODY.PEEK[HEADER]"), "URL with a SECTION")


@test
def target_tunnel_preauth():
    # Directly: the tunnel child gets pipes, which Dovecot's imap
    # accepts (it refuses a socket on stdin, taking it for inetd).
    out = ok(["ls", "--tunnel", CTX["info"]["preauth_cmd"]]).decode()
    check("INBOX" in out.splitlines(), "tunnel: %r" % out)


@test
def tunnel_failure_named_once():
    # a tunnel that dies says how, naming the tunnel once
    rc, out, err = run(["ls", "--tunnel", "exit 3"])
    eq((rc, out, err), (1, b"", "postern ls: tunnel 'exit 3': exited with "
                        "status 3\n"), "a tunnel exiting at once")
    rc, out, err = run(["fetch", "--tunnel",
                        "echo '* PREAUTH hi'; read tag rest; exit 4",
                        "INBOX"])
    eq(rc, 1, "a tunnel exiting mid-command: status")
    eq(err.count("tunnel '"), 1, "the tunnel named once: %r" % err)
    check("exited with status 4" in err, "how it ended: %r" % err)


@test
def each_sasl_mechanism():
    for mech in ("auto", "plain", "login", "cram-md5"):
        out = ok(["ls", "dv", "--auth", mech]).decode()
        check("INBOX" in out.splitlines(), "--auth %s: %r" % (mech, out))
    info = CTX["info"]
    rc, out, err = run(["ls", "dv", "--user", "bob"])
    eq(rc, 1, "wrong password status")
    eq(len(err.splitlines()), 1, "one line: %r" % err)
    check(info["users"]["alice"] not in err, "password in the error")


@test
def self_signed_refused():
    info = CTX["info"]
    # "localhost": no account matches, so no cafile is borrowed.
    rc, out, err = run(["ls", "imaps://alice@localhost:%d/" % info["imaps_port"]])
    eq(rc, 1, "status")
    eq(len(err.splitlines()), 1, "one line: %r" % err)
    check("certificate" in err, err)


# ---- driver -----------------------------------------------------------------------


if __name__ == "__main__":
    sys.exit(clitest.main("postern-cli-imap-"))
