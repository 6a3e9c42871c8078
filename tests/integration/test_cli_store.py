#!/usr/bin/env python3
"""`postern ls`, `fetch`, `append` and `copy` on a Maildir TARGET, checked
differentially against a real Dovecot (TAP).

The harness (dovecot.py) starts Dovecot on 127.0.0.1 in a temporary
directory; it is stopped in a finally.  alice's mail lives in
info["mail_root"]/alice (Maildir++), so one directory can be read two
ways: by postern directly (maildir:PATH) and through Dovecot (the account
"dv", IMAP).  Both must give the same rows, the same structure, the same
bytes and the same UID sets; what postern writes into the Maildir
(append, copy) must be what Dovecot then serves, at the UID Dovecot
itself would have given.  The binary is $POSTERN (default
./build/postern).  When the harness cannot start, every test fails saying
why.

Two differences are expected and stripped, nothing else:
  - \\Recent.  It is a property of an IMAP session, not of the mail: the
    first session that sees a message gets it (for EXAMINE too, until a
    SELECT claims it), while the Maildir side shows it only for a file
    still in new/.  So \\Recent is removed from both sides before
    comparing (and never counts as a flag that a copy must keep).
  - Line endings.  Dovecot stores mail with LF (mail_save_crlf = no) and
    serves it with CRLF, as IMAP requires; so what postern reads from the
    file on disk is compared with the file's bytes, what it reads over
    IMAP with imaplib's bytes, and the two modulo LF -> CRLF.

As root (CI), Dovecot reads mail as nobody: after postern wrote into
alice's Maildir, dovecot.fix_mail_owner(info) gives the files back before
Dovecot looks at them.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402 - next to this file
from clitest import (  # noqa: E402
    ATTACHMENT,
    CTX,
    Fail,
    appended,
    check,
    eq,
    imap,
    imap_fetch_raw,
    multipart_parts,
    mutf7,
    ok,
    run,
    test)


# ---- helpers -----------------------------------------------------------------


FLAGS_RE = re.compile(rb"FLAGS \(([^)]*)\)")
DATE_RE = re.compile(rb'INTERNALDATE "([^"]+)"')
UID_RE = re.compile(rb"UID (\d+)")


def imap_meta(mailbox):
    """{uid: (flags minus \\Recent, INTERNALDATE)} of every message."""
    c = imap()
    try:
        typ, data = c.select(mailbox, readonly=True)
        check(typ == "OK", "imaplib EXAMINE %s: %r" % (mailbox, data))
        if int(data[0]) == 0:
            return {}
        typ, data = c.uid("FETCH", "1:*", "(FLAGS INTERNALDATE)")
        out = {}
        for d in data:
            if not isinstance(d, bytes):
                continue
            uid = int(UID_RE.search(d).group(1))
            flags = set(FLAGS_RE.search(d).group(1).decode().split()) - {"\\Recent"}
            out[uid] = (flags, DATE_RE.search(d).group(1).decode())
        return out
    finally:
        c.logout()


def imap_append(mailbox, data, flags=None, date=None):
    c = imap()
    try:
        typ, resp = c.append(mailbox, flags, date and '"%s"' % date, data)
        check(typ == "OK", "imaplib APPEND: %r" % resp)
        m = re.search(rb"APPENDUID (\d+) (\d+)", resp[0])
        return int(m.group(2))
    finally:
        c.logout()


def imap_status(mailbox):
    c = imap()
    try:
        typ, data = c.status('"%s"' % mailbox, "(MESSAGES UIDNEXT UIDVALIDITY)")
        check(typ == "OK", "imaplib STATUS %r" % data)
        m = re.search(rb"MESSAGES (\d+) UIDNEXT (\d+) UIDVALIDITY (\d+)", data[0])
        return tuple(int(x) for x in m.groups())
    finally:
        c.logout()


def imap_create(name):
    c = imap()
    try:
        typ, data = c.create('"%s"' % mutf7(name))
        check(typ == "OK", "imaplib CREATE %s: %r" % (name, data))
    finally:
        c.logout()


def write(name, data):
    path = os.path.join(CTX["tmp"], name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def fix_owner():
    CTX["dovecot"].fix_mail_owner(CTX["info"])


def crlf(data):
    """What IMAP carries for bytes stored with bare LFs."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def folder_dir(root, box):
    """The directory of a Maildir++ folder (IMAP "A/B" is ".A.B" on disk)."""
    if box.upper() == "INBOX":
        return root
    return os.path.join(root, "." + mutf7(box).replace("/", "."))


def md_file(root, box, uid):
    """The path of UID in a Dovecot-style Maildir folder, via its
    dovecot-uidlist (version 3: "UID [ext...] :basename")."""
    d = folder_dir(root, box)
    base = None
    with open(os.path.join(d, "dovecot-uidlist"), "rb") as f:
        next(f)
        for line in f:
            head, _, name = line.rstrip(b"\n").partition(b":")
            if int(head.split()[0]) == uid:
                base = name.decode()
    check(base, "UID %d not in %s/dovecot-uidlist" % (uid, d))
    for sub in ("cur", "new"):
        for n in os.listdir(os.path.join(d, sub)):
            if n == base or n.startswith(base + ":"):
                return os.path.join(d, sub, n)
    raise Fail("no file for UID %d (%s) in %s" % (uid, base, d))


def md_bytes(root, box, uid):
    with open(md_file(root, box, uid), "rb") as f:
        return f.read()


def snapshot(top):
    """Every path under top with its type, size and mtime (ns)."""
    snap = {}
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            snap[os.path.relpath(p, top)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    st = os.lstat(top)
    snap["."] = (st.st_mode, st.st_mtime_ns)
    return snap


def snap_diff(a, b):
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def no_recent(flags):
    return [f for f in flags if f != "\\Recent"]


def list_rows(out):
    """postern fetch's table as (uid, flags minus \\Recent, date, size,
    from, subject) tuples.  The columns are cut where the header names
    them (SIZE is right-aligned: it ends where its name ends), so a wider
    FLAGS column on one side (\\Recent) changes nothing."""
    lines = out.decode("utf-8").splitlines()
    check(lines, "no header in %r" % out)
    h = lines[0]
    eq(h.split(), ["UID", "FLAGS", "DATE", "SIZE", "FROM", "SUBJECT"], "header")
    fl, dt, fr, sj = h.index("FLAGS"), h.index("DATE"), h.index("FROM"), h.index("SUBJECT")
    se = h.index("SIZE") + len("SIZE")
    rows = []
    for l in lines[1:]:
        ds = l[dt:se].split()
        rows.append((int(l[:fl]), no_recent(l[fl:dt].split()), " ".join(ds[:-1]), int(ds[-1]),
                     l[fr:sj].strip(), l[sj:]))
    return rows


def json_recs(out):
    recs = [json.loads(l) for l in out.splitlines()]
    for r in recs:
        if "flags" in r:
            r["flags"] = no_recent(r["flags"])
    return recs


def both(args, box="INBOX"):
    """`postern fetch` over IMAP and on the Maildir: (imap, maildir)."""
    return (ok(["fetch", "dv", box] + args), ok(["fetch", CTX["md"], box] + args))


VERBOSE = re.compile(r"^UID (\d+) -> UID (\d+)$")


def copy_map(out):
    """The UID a -> UID b lines of copy --verbose, and the summary line."""
    lines = out.decode().splitlines()
    check(lines, "no output")
    pairs = []
    for l in lines[:-1]:
        m = VERBOSE.match(l)
        check(m, "verbose line %r" % l)
        pairs.append((int(m.group(1)), int(m.group(2))))
    return pairs, lines[-1]


# ---- the mail ------------------------------------------------------------------

def message(subject, body=b"hello\r\n", extra=b"", frm=b"Ann Example <ann@example.org>",
            mid=None):
    mid = mid or re.sub(rb"[^A-Za-z0-9]", b".", subject)
    return (b"From: " + frm + b"\r\nTo: bob@example.org\r\n"
            b"Subject: " + subject + b"\r\nDate: Wed, 25 Nov 2026 16:21:03 +0000\r\n"
            b"Message-ID: <" + mid + b"@example.org>\r\n" + extra + b"\r\n" + body)


def multipart(subject, frm):
    body, headers = multipart_parts()
    return message(subject, body, headers, frm=frm, mid=b"multipart")


# name: (message, flags for imaplib, INTERNALDATE)
INBOX_MAIL = [
    ("seen", message(b"plain seen"), "(\\Seen project-x)", "04-Mar-2021 10:20:30 +0100"),
    ("answered", message(b"answered and forwarded"), "(\\Answered \\Flagged $Forwarded)",
     "31-Dec-2019 23:59:59 +0000"),
    ("multipart", multipart(b"=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=",
                            b"=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.org>"),
     None, "07-Jun-2022 08:00:00 +0200"),
    ("latin1", message(b"=?iso-8859-1?q?caf=E9_cr=E8me?=", b"caf=E9\r\n",
                       b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                       b"Content-Transfer-Encoding: quoted-printable\r\n",
                       frm="Zoë Çelik <zoe@example.org>".encode()),
     "(\\Flagged project-x)", "15-Jan-2024 12:00:00 -0500"),
    ("draft", message(b"a draft", b"one\r\ntwo\r\n"), "(\\Draft \\Seen)", "02-Feb-2025 03:04:05 +0000"),
    # text/plain without a charset, a transfer encoding in mixed case
    ("nocharset", message(b"no charset", b"aGk=\r\n",
                          b"Content-Type: text/plain\r\nContent-Transfer-Encoding: Base64\r\n",
                          frm=b"Bob Builder <bob@example.org>"),
     "(\\Seen)", "01-Jan-2018 00:00:00 +0000"),
]

FOLDERS = ["Entwürfe", "Archive/2024", "Counted", "Movers"]


def populate():
    for name in FOLDERS:
        imap_create(name)
    uids = {}
    for name, data, flags, date in INBOX_MAIL:
        uids[name] = imap_append("INBOX", data, flags, date)
    for i in range(3):
        imap_append("Counted", message(b"count %d" % i), "(\\Seen)" if i == 0 else None)
    CTX["uids"] = uids
    CTX["mail"] = {name: data for name, data, _f, _d in INBOX_MAIL}


# ---- fetch: the same directory read both ways -------------------------------

@test
def fetch_list_same():
    # First, while "multipart" is still in new/ (\Recent on both sides).
    i, m = both([])
    ri, rm = list_rows(i), list_rows(m)
    eq(len(ri), len(INBOX_MAIL), "rows")
    eq(rm, ri, "Maildir rows vs IMAP rows (minus \\Recent)")
    u = CTX["uids"]
    row = [r for r in rm if r[0] == u["multipart"]][0]
    eq((row[4], row[5]), ("Jörg Müller <joerg@example.org>", "Grüße aus Köln"), "RFC 2047")
    row = [r for r in rm if r[0] == u["latin1"]][0]
    eq((row[4], row[5]), ("Zoë Çelik <zoe@example.org>", "café crème"), "8-bit From, ISO-8859-1")
    row = [r for r in rm if r[0] == u["answered"]][0]
    eq(row[1], ["\\Answered", "\\Flagged", "$Forwarded"], "flags")


@test
def fetch_json_same():
    i, m = both(["--json"])
    ji, jm = json_recs(i), json_recs(m)
    eq(len(jm), len(INBOX_MAIL), "records")
    for a, b in zip(ji, jm):
        eq(b, a, "UID %s" % a["uid"])
    r = [x for x in jm if x["uid"] == CTX["uids"]["seen"]][0]
    eq(r["flags"], ["\\Seen", "project-x"], "flags with a keyword")
    eq(r["internaldate"], "04-Mar-2021 09:20:30 +0000", "internaldate")
    eq(r["size"], len(CTX["mail"]["seen"]), "size (the CRLF size, RFC822.SIZE)")


@test
def fetch_list_byte_identical_once_not_recent():
    # A read-write SELECT claims \Recent (and Dovecot moves new/ to cur/):
    # from then on the two tables must be the same bytes, alignment too.
    c = imap()
    c.select("INBOX")
    c.logout()
    i, m = both([])
    check("\\Recent" not in i.decode(), "still \\Recent over IMAP: %r" % i)
    eq(m.decode(), i.decode(), "table")


@test
def fetch_structure_text():
    uid = str(CTX["uids"]["multipart"])
    i, m = both(["--structure", "--uid", uid])
    eq(m.decode(), i.decode(), "--structure")
    lines = m.decode().splitlines()
    eq(lines[0], "UID " + uid, "head")
    check(re.search(r"^\s+2\s+application/octet-stream\s+14014\s+attachment\s+data\.bin$",
                    lines[3]), lines[3])


@test
def fetch_structure_json():
    uid = str(CTX["uids"]["multipart"])
    i, m = both(["--structure", "--json", "--uid", uid])
    eq(json.loads(m), json.loads(i), "--structure --json of the multipart")


@test
def fetch_structure_every_message():
    # Dovecot's BODYSTRUCTURE gives a text part without a charset
    # parameter ("charset" "us-ascii") (RFC 2045 5.2, whether or not there
    # is a Content-Type), and the transfer encoding as written ("7bit"
    # when there is none).
    i, m = both(["--structure", "--json"])
    for a, b in zip(json_recs(i), json_recs(m)):
        eq(b, a, "UID %s" % a["uid"])
    i, m = both(["--structure"])
    eq(m.decode(), i.decode(), "--structure of every message")


@test
def fetch_headers_same():
    root = CTX["alice"]
    for name, uid in sorted(CTX["uids"].items()):
        i, m = both(["--headers", "--uid", str(uid)])
        disk = md_bytes(root, "INBOX", uid)
        eq(m, disk[:disk.index(b"\n\n") + 2], "%s: Maildir --headers vs the file" % name)
        eq(i, imap_fetch_raw("INBOX", uid, "BODY.PEEK[HEADER]"), "%s: IMAP --headers" % name)
        eq(crlf(m), i, "%s: the two modulo LF -> CRLF" % name)


@test
def fetch_raw_same():
    root = CTX["alice"]
    for name, uid in sorted(CTX["uids"].items()):
        i, m = both(["--raw", "--uid", str(uid)])
        eq(m, md_bytes(root, "INBOX", uid), "%s: Maildir --raw vs the file" % name)
        eq(i, imap_fetch_raw("INBOX", uid), "%s: IMAP --raw vs imaplib" % name)
        eq(i, CTX["mail"][name], "%s: what imaplib appended" % name)
        eq(crlf(m), i, "%s: the two modulo LF -> CRLF" % name)


@test
def fetch_part_same():
    uid = str(CTX["uids"]["multipart"])
    i, m = both(["--part", "2", "--uid", uid])
    eq(i, ATTACHMENT, "IMAP --part 2")
    eq(m, ATTACHMENT, "Maildir --part 2")
    i, m = both(["--part", "1", "--uid", uid])
    eq((i, m), (b"see attached", b"see attached"), "--part 1")
    i, m = both(["--part", "2", "--encoded", "--uid", uid])
    eq(i, imap_fetch_raw("INBOX", uid, "BODY.PEEK[2]"), "IMAP --encoded")
    eq(crlf(m), i, "Maildir --encoded modulo LF -> CRLF")
    # A text part keeps its line ends: CRLF over IMAP, the file's LF on
    # the Maildir side.
    i, m = both(["--part", "1", "--uid", str(CTX["uids"]["latin1"])])
    eq(i, b"caf\xe9\r\n", "IMAP: quoted-printable undone")
    eq(m, b"caf\xe9\n", "Maildir: quoted-printable undone")


SEARCHES = [
    ("FLAGGED", ["answered", "latin1"]),
    ("KEYWORD project-x", ["seen", "latin1"]),
    ("FROM Müller", ["multipart"]),
    ("FROM Ann", ["seen", "answered", "draft"]),
    ("SINCE 1-Jan-2020 UNSEEN", ["multipart", "latin1"]),
    ("DRAFT", ["draft"]),
    ("SUBJECT crème", ["latin1"]),
    ("OR ANSWERED KEYWORD project-x", ["seen", "answered", "latin1"]),
    ("NOT SEEN BEFORE 1-Jan-2023", ["answered", "multipart"]),
    ("LARGER 10000", ["multipart"]),
]


@test
def fetch_search_same():
    u = CTX["uids"]
    for q, names in SEARCHES:
        i, m = both(["--search", q, "--json"])
        want = sorted(u[n] for n in names)
        eq([r["uid"] for r in json_recs(i)], want, "IMAP --search %r" % q)
        eq([r["uid"] for r in json_recs(m)], want, "Maildir --search %r" % q)


# ---- ls ------------------------------------------------------------------------

def md_name(imap_name):
    # Dovecot's namespace here is configured with separator "/"; on disk
    # Maildir++ writes the hierarchy with "." (.Archive.2024), which is
    # the separator a Maildir++ has without that configuration, and the
    # one postern reports for it.
    return imap_name.replace("/", ".")


@test
def ls_same():
    # Dovecot lists its auto = create/subscribe folders before they exist
    # on disk; a STATUS of each makes them real, so both sides have them.
    for box in ("Drafts", "Sent", "Trash", "Junk", "Archive"):
        imap_status(box)
    fix_owner()
    i = ok(["ls", "dv"]).decode()
    m = ok(["ls", CTX["md"]]).decode()
    eq(m, md_name(i), "ls (names modulo the separator)")
    names = [l.split()[0] for l in m.splitlines()]
    for n in ("INBOX", "Entwürfe", "Archive", "Archive.2024", "Counted", "Sent", "Trash"):
        check(n in names, "%s in %r" % (n, names))


@test
def ls_status_same():
    fix_owner()
    i = ok(["ls", "dv", "--status"]).decode()
    m = ok(["ls", CTX["md"], "--status"]).decode()
    eq(m, md_name(i), "ls --status (names modulo the separator)")


@test
def ls_status_json_same():
    ri = {md_name(r["name"]): r for r in json_recs(ok(["ls", "dv", "--status", "--json"]))}
    rm = {r["name"]: r for r in json_recs(ok(["ls", CTX["md"], "--status", "--json"]))}
    eq(sorted(rm), sorted(ri), "names")
    # Attributes a Maildir cannot know as Dovecot does: \Subscribed for
    # auto = subscribe folders lives only in Dovecot's config, and
    # \HasChildren/\HasNoChildren Dovecot leaves out of a LIST-STATUS.
    vary = {"\\Subscribed", "\\HasChildren", "\\HasNoChildren"}
    for n in sorted(ri):
        a, b = ri[n], rm[n]
        eq(b["delimiter"], ".", "%s: Maildir++ delimiter" % n)
        eq(b["raw_name"], md_name(a["raw_name"]), "%s: raw_name" % n)
        for k in ("special_use", "messages", "unseen", "uidnext", "uidvalidity", "size"):
            eq(b.get(k), a.get(k), "%s: %s" % (n, k))
        eq(sorted(set(b["attributes"]) - vary), sorted(set(a["attributes"]) - vary),
           "%s: attributes" % n)
    eq((rm["Counted"]["messages"], rm["Counted"]["unseen"], rm["Counted"]["uidnext"]),
       (3, 2, 4), "Counted")
    eq(rm["Entwürfe"]["raw_name"], "Entw&APw-rfe", "modified UTF-7 on disk")


# ---- append into the Maildir, then Dovecot ---------------------------------------


@test
def append_maildir_then_dovecot():
    fix_owner()
    _n, uidnext, uidvalidity = imap_status("INBOX")
    data = message(b"appended to the Maildir", b"crlf line\r\n")
    lf = message(b"appended with LFs", b"lf line\n").replace(b"\r\n", b"\n")
    paths = [write("md-append.eml", data), write("md-append-lf.eml", lf)]
    out = ok(["append", CTX["md"], "INBOX", paths[0], paths[1], "--flags", "\\Seen project-x",
              "--date", "Tue, 3 Mar 2026 10:20:30 +0100"])
    rows = appended(out)
    eq(rows, [(paths[0], uidnext, uidvalidity), (paths[1], uidnext + 1, uidvalidity)],
       "the UIDs Dovecot would give")
    eq(md_bytes(CTX["alice"], "INBOX", uidnext + 1), lf, "a Maildir keeps LFs as they are")
    fix_owner()
    meta = imap_meta("INBOX")
    for uid in (uidnext, uidnext + 1):
        check(uid in meta, "Dovecot sees UID %d: %r" % (uid, sorted(meta)))
        eq(meta[uid], ({"\\Seen", "project-x"}, "03-Mar-2026 09:20:30 +0000"),
           "flags and INTERNALDATE of UID %d" % uid)
    eq(imap_fetch_raw("INBOX", uidnext), data, "identical bytes")
    eq(imap_fetch_raw("INBOX", uidnext + 1), crlf(lf), "the LF file, served with CRLF")
    eq(imap_append("INBOX", message(b"after postern")), uidnext + 2, "Dovecot's next APPEND")
    rec = json_recs(ok(["fetch", CTX["md"], "INBOX", "--uid", str(uidnext), "--json"]))
    eq((rec[0]["flags"], rec[0]["internaldate"]), (["\\Seen", "project-x"],
                                                   "03-Mar-2026 09:20:30 +0000"), "postern reads it back")


# ---- copy -----------------------------------------------------------------------

def tmp_maildir(name):
    return os.path.join(CTX["tmp"], name)


@test
def copy_maildir_to_imap():
    u = CTX["uids"]
    src = [u["seen"], u["answered"], u["multipart"], u["latin1"]]
    before = imap_meta("INBOX")
    _n, uidnext, _v = imap_status("Archive")
    out = ok(["copy", CTX["md"], "INBOX", "dv", "Archive", "--uid",
              ",".join(map(str, src)), "--verbose"])
    pairs, last = copy_map(out)
    eq(pairs, [(s, uidnext + k) for k, s in enumerate(src)], "UID a -> UID b")
    eq(last, "copied 4 messages from INBOX to Archive", "summary")
    after = imap_meta("Archive")
    dst_json = {r["uid"]: r for r in json_recs(ok(["fetch", "dv", "Archive", "--json"]))}
    src_json = {r["uid"]: r for r in json_recs(ok(["fetch", CTX["md"], "INBOX", "--json"]))}
    for s, d in pairs:
        eq(after[d], before[s], "flags and INTERNALDATE, UID %d -> %d (imaplib)" % (s, d))
        eq((dst_json[d]["flags"], dst_json[d]["internaldate"]),
           (src_json[s]["flags"], src_json[s]["internaldate"]), "postern fetch --json %d" % d)
        # IMAP takes CRLF only: a bare LF of the file goes as CRLF (as
        # postern append does); nothing else may change.
        eq(imap_fetch_raw("Archive", d), crlf(md_bytes(CTX["alice"], "INBOX", s)),
           "bytes of UID %d" % d)
    eq(len(imap_meta("INBOX")), len(before), "the source kept its messages")


@test
def copy_imap_to_maildir_create():
    dst = tmp_maildir("saved-md")
    u = CTX["uids"]
    rc, out, err = run(["copy", "dv", "INBOX", "maildir:" + dst, "Saved", "--create", "--verbose"])
    eq(rc, 0, "status: %s" % err)
    check("postern copy: created Saved in %s" % dst in err, "created line in %r" % err)
    pairs, last = copy_map(out)
    src = imap_meta("INBOX")
    eq([p[0] for p in pairs], sorted(src), "every source UID")
    eq([p[1] for p in pairs], list(range(1, len(src) + 1)), "UIDs 1.. in a new folder")
    eq(last, "copied %d messages from INBOX to Saved" % len(src), "summary")
    got = {r["uid"]: r for r in json_recs(ok(["fetch", dst, "Saved", "--json"]))}
    for s, d in pairs:
        eq((set(got[d]["flags"]), got[d]["internaldate"]), src[s],
           "flags and INTERNALDATE, UID %d -> %d" % (s, d))
        data = ok(["fetch", dst, "Saved", "--raw", "--uid", str(d)])
        eq(data, imap_fetch_raw("INBOX", s), "bytes of UID %d" % d)
        eq(md_bytes(dst, "Saved", d), data, "the file on disk")
    eq(got[pairs[0][1]]["flags"], ["\\Seen", "project-x"], "keyword kept")
    check(u["answered"] in [p[0] for p in pairs], "answered copied")
    rec = [got[d] for s, d in pairs if s == u["answered"]][0]
    eq(rec["flags"], ["\\Answered", "\\Flagged", "$Forwarded"], "$Forwarded kept")


@test
def copy_move_both_ways():
    box = "Movers"
    for i in range(3):
        imap_append(box, message(b"mover %d" % i), "(\\Seen mover-%d)" % i if i else None,
                    "0%d-Apr-2023 10:00:00 +0000" % (i + 1))
    before = imap_meta(box)
    raw = {u: imap_fetch_raw(box, u) for u in before}
    dst = tmp_maildir("moved-md")
    out = ok(["copy", "dv", box, dst, "Moved", "--move", "--create", "--verbose"])
    pairs, last = copy_map(out)
    eq(last, "moved 3 messages from Movers to Moved", "summary")
    eq(imap_meta(box), {}, "gone from the IMAP source")
    got = {r["uid"]: r for r in json_recs(ok(["fetch", dst, "Moved", "--json"]))}
    for s, d in pairs:
        eq((set(got[d]["flags"]), got[d]["internaldate"]), before[s], "UID %d -> %d" % (s, d))
        eq(md_bytes(dst, "Moved", d), raw[s], "bytes")
    # ... and back: Maildir -> IMAP, the Maildir files go.
    _n, uidnext, _v = imap_status(box)
    out = ok(["copy", dst, "Moved", "dv", box, "--move", "--verbose"])
    pairs2, last = copy_map(out)
    eq(last, "moved 3 messages from Moved to Movers", "summary back")
    eq([p[1] for p in pairs2], [uidnext, uidnext + 1, uidnext + 2], "new UIDs")
    eq(json_recs(ok(["fetch", dst, "Moved", "--json"])), [], "gone from the Maildir")
    eq(os.listdir(os.path.join(dst, ".Moved", "cur")) +
       os.listdir(os.path.join(dst, ".Moved", "new")), [], "no file left")
    after = imap_meta(box)
    back = {a: b for a, b in pairs2}
    for s, d in pairs:
        eq(after[back[d]], before[s], "round trip of UID %d" % s)
        eq(imap_fetch_raw(box, back[d]), raw[s], "round-trip bytes of UID %d" % s)


@test
def copy_same_imap_target():
    uid = CTX["uids"]["answered"]
    before = imap_meta("INBOX")[uid]
    n0, uidnext, _v = imap_status("Trash")
    out = ok(["copy", "dv", "INBOX", "dv", "Trash", "--uid", str(uid)]).decode()
    eq(out, "copied 1 message from INBOX to Trash\n", "output")
    eq(imap_meta("Trash")[uidnext], before, "flags and date (server-side COPY)")
    eq(imap_fetch_raw("Trash", uidnext), imap_fetch_raw("INBOX", uid), "bytes")


@test
def copy_same_imap_target_verbose():
    # UID COPY answers COPYUID (UIDPLUS): --verbose has the pairs.
    uid = CTX["uids"]["seen"]
    _n, uidnext, _v = imap_status("Trash")
    out = ok(["copy", "dv", "INBOX", "dv", "Trash", "--uid", str(uid), "--verbose"]).decode()
    eq(out, "UID %d -> UID %d\ncopied 1 message from INBOX to Trash\n" % (uid, uidnext),
       "output")


@test
def copy_same_maildir_target():
    dst = tmp_maildir("saved-md")
    src = json_recs(ok(["fetch", dst, "Saved", "--json", "--uid", "1:2"]))
    out = ok(["copy", dst, "Saved", dst, "INBOX", "--uid", "1:2", "--verbose"]).decode()
    eq(out, "UID 1 -> UID 1\nUID 2 -> UID 2\ncopied 2 messages from Saved to INBOX\n", "output")
    got = json_recs(ok(["fetch", dst, "INBOX", "--json"]))
    eq([(r["flags"], r["internaldate"], r["size"]) for r in got],
       [(r["flags"], r["internaldate"], r["size"]) for r in src], "flags, date, size")
    for uid in (1, 2):
        eq(md_bytes(dst, "INBOX", uid), md_bytes(dst, "Saved", uid), "bytes of %d" % uid)
    eq(len(json_recs(ok(["fetch", dst, "Saved", "--json"]))), len(CTX["uids"]) + 3,
       "the source kept its messages")


@test
def copy_search_selects():
    u = CTX["uids"]
    dst = tmp_maildir("search-md")
    out = ok(["copy", CTX["md"], "INBOX", dst, "Kw", "--create", "--search", "KEYWORD project-x",
              "--verbose"])
    pairs, last = copy_map(out)
    srcs = [p[0] for p in pairs]
    check(u["seen"] in srcs and u["latin1"] in srcs, "keyword messages in %r" % srcs)
    want = [r["uid"] for r in json_recs(ok(["fetch", "dv", "INBOX", "--search",
                                            "KEYWORD project-x", "--json"]))]
    eq(srcs, want, "what IMAP SEARCH finds on the same mail")
    eq(last, "copied %d messages from INBOX to Kw" % len(want), "summary")
    out = ok(["copy", "dv", "INBOX", dst, "Kw", "--search", "SUBJECT no-such-subject-4242"])
    eq(out, b"no message matches; nothing copied\n", "nothing matches")


# ---- errors and read-only --------------------------------------------------------

@test
def errors_exit_codes():
    rc, out, err = run(["fetch", "maildir:/nonexistent", "INBOX"])
    eq(rc, 1, "fetch maildir:/nonexistent status")
    eq(len(err.splitlines()), 1, "one line: %r" % err)
    check(err.startswith("postern fetch: ") and "/nonexistent" in err, err)
    eq(out, b"", "nothing on stdout")
    check(not os.path.exists("/nonexistent"), "read-only fetch created it")
    rc, out, err = run(["ls", "maildir:/tmp/x", "--tls", "none"])
    eq(rc, 2, "ls maildir --tls status: %r" % err)
    check("connection options do not apply" in err, err)
    rc, out, err = run(["copy", "A", "B", "C"])
    eq(rc, 2, "copy A B C status")
    check(err.startswith("postern copy: "), err)
    rc, out, err = run(["copy", "--tunnel", CTX["info"]["preauth_cmd"], "dv", "INBOX",
                        CTX["md"], "INBOX"])
    eq(rc, 2, "copy --tunnel status")
    check("--tunnel" in err, err)
    rc, out, err = run(["copy", "dv", "INBOX", "dv", "INBOX", "--move"])
    eq(rc, 2, "move onto itself")
    rc, out, err = run(["copy", CTX["md"], "NoSuchBox", "dv", "INBOX"])
    eq(rc, 1, "unknown source folder")
    eq(len(err.splitlines()), 1, "one line: %r" % err)


@test
def fetch_maildir_is_read_only():
    fix_owner()
    root = CTX["alice"]
    before = snapshot(root)
    md, u = CTX["md"], CTX["uids"]
    for args in (["fetch", md, "INBOX"], ["fetch", md, "INBOX", "--json"],
                 ["fetch", md, "INBOX", "--raw", "--uid", str(u["multipart"])],
                 ["fetch", md, "INBOX", "--part", "2", "--uid", str(u["multipart"])],
                 ["fetch", md, "INBOX", "--structure"], ["fetch", md, "INBOX", "--headers"],
                 ["fetch", md, "INBOX", "--search", "UNSEEN"], ["fetch", md, "Counted"],
                 ["ls", md, "--status"], ["ls", md, "--json"],
                 ["copy", md, "INBOX", tmp_maildir("ro-dst"), "INBOX", "--uid", "1"]):
        ok(args)
    eq(snap_diff(before, snapshot(root)), [], "changed in alice's Maildir")


@test
def fetch_fresh_maildir_writes_nothing():
    root = tmp_maildir("fresh")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub))
    t0 = 1700000000
    names = []
    for i in range(3):
        n = "%d.M%dP1.host:2,%s" % (t0 + i, i, "S" if i else "")
        data = message(b"fresh %d" % i).replace(b"\r\n", b"\n")
        p = os.path.join(root, "cur", n)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (t0 + i, t0 + i))
        names.append(n)
    p = os.path.join(root, "new", "%d.M9P1.host" % (t0 + 9))
    with open(p, "wb") as f:
        f.write(message(b"fresh new"))
    os.utime(p, (t0 + 9, t0 + 9))
    for d in ("cur", "new", "tmp", ""):
        os.utime(os.path.join(root, d), (t0, t0))
    before = snapshot(root)
    out = ok(["fetch", root, "INBOX", "--json"])
    recs = json_recs(out)
    eq(len(recs), 4, "four messages: %r" % out)
    eq(sorted(r["subject"] for r in recs),
       ["fresh 0", "fresh 1", "fresh 2", "fresh new"], "subjects")
    ok(["fetch", root, "INBOX"])
    ok(["fetch", root, "INBOX", "--raw", "--uid", str(recs[0]["uid"])])
    ok(["fetch", root, "INBOX", "--search", "SEEN"])
    ok(["ls", root, "--status"])
    eq(snap_diff(before, snapshot(root)), [], "changed in a Maildir without uidlist")
    check(not os.path.exists(os.path.join(root, "dovecot-uidlist")), "dovecot-uidlist created")


# ---- driver -----------------------------------------------------------------------

def prepare():
    """alice's Maildir, seen directly, and her mailboxes filled."""
    info = CTX["info"]
    CTX["alice"] = os.path.join(info["mail_root"], "alice")
    CTX["md"] = "maildir:" + CTX["alice"]
    populate()


if __name__ == "__main__":
    sys.exit(clitest.main("postern-cli-store-", prepare=prepare))
