#!/usr/bin/env python3
"""test_mime_diff.py - postern's MIME engine against Python's email package.

For every message in ../shared/corpus/mime-public/ (real mail from public
MIME test suites), in share/demo/ and in 200 messages from
tools/gen-corpus.py (fixed seed, temporary directory), compare
`postern mime tree --json` and `postern mime body` with what Python 3's
email package (BytesParser, policy.default) says about the same bytes:

  - the part list, depth-first, root first: IMAP section numbers, depth,
    type, charset (text parts), disposition, filename;
  - for leaves, the transfer-decoded size and SHA-256 (Python:
    get_payload(decode=True): base64/QP/uuencode undone, line endings as
    in the message, the line break before a boundary not included);
  - the subject, decoded;
  - the get_body choice: postern mime body against Python's get_body()
    content, compared as text (CRLF read as LF).

Where the two differ and postern is right, EXCEPTIONS below records the
file, the field and why.  An exception covers that one field of that one
file; an exception that no longer matches a difference fails the test, so
the table cannot rot.  Prints TAP, one test per message.

usage: test_mime_diff.py [-v] [--only SUBSTRING]
environment: POSTERN (default ./build/postern)
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from email import policy
from email.parser import BytesParser

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from exceptions import EXCEPTIONS  # noqa: E402  (file, field) -> reason

CORPUS = os.path.normpath(os.path.join(TOP, "..", "shared", "corpus", "mime-public"))
DEMO = os.path.join(TOP, "share", "demo")
GEN = os.path.join(TOP, "tools", "gen-corpus.py")
GEN_SEED = 7
GEN_COUNT = 200
TIMEOUT = 30

# Message types that nest a message (mime.h); Python's parser also nests
# message/delivery-status, /partial, /external-body and
# /disposition-notification, which postern (and issue 3) keep as leaves.
NESTING = ("message/rfc822", "message/global")

VERBOSE = False


# ---- the Python side -----------------------------------------------------------

def join_section(parent, i):
    return str(i) if parent is None else "%s.%d" % (parent, i)


def header_end(raw):
    """Offset of the body in a part's raw bytes (after the blank line)."""
    m = re.match(rb"\r?\n", raw)
    if m:                       # no header fields at all
        return m.end()
    m = re.search(rb"\r?\n\r?\n", raw)
    return m.end() if m else len(raw)


def split_multipart(body, boundary):
    """The raw subparts of a multipart body; the line break before each
    delimiter belongs to the delimiter (RFC 2046 5.1.1)."""
    delim = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary.encode("latin-1"))
                       + rb"(--)?[ \t]*(?:\r?\n|\Z)", re.M)
    parts, start = [], None
    for m in delim.finditer(body):
        if start is not None:
            parts.append(body[start:m.start()])
        if m.group(1):
            return parts
        start = m.end()
    if start is not None:
        parts.append(body[start:])
    return parts


class Node:
    """One part as Python sees it, with a lazy view of its raw bytes for
    the leaves Python cannot give back (message/* that it nests but the
    spec treats as leaves)."""

    def __init__(self, msg, parent=None, index=None, raw=None):
        self.msg, self.parent, self.index, self._raw = msg, parent, index, raw

    def raw(self):
        if self._raw is not None:
            return self._raw
        p = self.parent
        if p is None:
            return None
        praw = p.raw()
        if praw is None:
            return None
        body = praw[header_end(praw):]
        if self.index is None:          # the nested message of p
            self._raw = body
        else:
            bnd = p.msg.get_boundary()
            subs = split_multipart(body, bnd) if bnd else []
            self._raw = subs[self.index] if self.index < len(subs) else None
        return self._raw


def leaf_bytes(node):
    """(bytes or None, note): transfer-decoded bytes of a leaf."""
    m = node.msg
    if not m.is_multipart():
        data = m.get_payload(decode=True)
        return (data if data is not None else b""), None
    # Python nested a message/* that is a leaf for postern: slice the raw
    # bytes; only identity encodings can be checked that way.
    cte = str(m.get("content-transfer-encoding", "7bit")).strip().lower()
    raw = node.raw()
    if raw is None or cte not in ("7bit", "8bit", "binary"):
        return None, "raw bytes of %s not recoverable" % m.get_content_type()
    return raw[header_end(raw):], None


def py_parts(path):
    with open(path, "rb") as f:
        data = f.read()
    msg = BytesParser(policy=policy.default).parsebytes(data)
    out = []

    def visit(node, section, depth):
        m = node.msg
        ctype = m.get_content_type()
        maintype = m.get_content_maintype()
        row = {
            "section": section, "depth": depth, "type": ctype,
            "charset": ((m.get_content_charset() or "us-ascii")
                        if maintype == "text" else None),
            "disposition": m.get_content_disposition(),
            "filename": m.get_filename(),
            "size": None, "sha256": None,
        }
        out.append(row)
        if maintype == "multipart" and m.is_multipart():
            for i, sub in enumerate(m.get_payload(), 1):
                visit(Node(sub, node, i - 1), join_section(section, i), depth + 1)
            return
        if ctype in NESTING and m.is_multipart():
            nested = m.get_payload(0)
            # RFC 3501 6.4.5: a non-multipart message has a part 1, so a
            # message/rfc822 root counts as "1" when numbering below it.
            base = section if section is not None else "1"
            nsec = base if nested.get_content_maintype() == "multipart" \
                else join_section(base, 1)
            start = len(out)
            visit(Node(nested, node, None), nsec, depth + 1)
            out[start]["nested"] = True
            return
        if maintype == "multipart":
            # Python could not split it (no boundary): it keeps the body as
            # a string; postern keeps a multipart with no children.
            data = m.get_payload(decode=True)
            row["size"], row["sha256"] = len(data), hashlib.sha256(data).hexdigest()
            return
        data, note = leaf_bytes(node)
        if data is None:
            row["size"] = row["sha256"] = "?"
            row["note"] = note
        else:
            row["size"], row["sha256"] = len(data), hashlib.sha256(data).hexdigest()

    visit(Node(msg, raw=data), None, 0)
    return msg, out


def py_body(msg):
    """What postern mime body should print, as Python sees it: get_body()
    with related, html, plain; a multipart/related answer is followed to
    its start part (start= Content-ID, else the first) and the html or
    plain body in it, as cli/mime_body.c documents.  None: no body."""
    b = msg.get_body()
    if b is not None and b.get_content_type() == "multipart/related":
        subs = b.get_payload()
        start = b.get_param("start")
        root = None
        if start:
            want = start.strip().strip("<>")
            for s in subs:
                cid = s.get("content-id")
                if cid is not None and str(cid).strip().strip("<>") == want:
                    root = s
                    break
        if root is None:
            root = subs[0] if subs else None
        if root is None:
            return None
        b = root.get_body(preferencelist=("html", "plain"))
        if b is None or b.is_multipart():
            return None
    if b is None:
        return None
    return b.get_content()


# ---- the postern side ------------------------------------------------------------

def postern_trees(postern, paths):
    """{path: tree object}, one postern process for all of paths."""
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as f:
        f.write("".join(p + "\n" for p in paths))
        lst = f.name
    try:
        r = subprocess.run([postern, "mime", "tree", "--json", "--files-from", lst],
                           capture_output=True, timeout=TIMEOUT * 4)
    finally:
        os.unlink(lst)
    trees = {}
    for line in r.stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "file" in obj:
            trees[obj["file"]] = obj
    return trees


def postern_tree_one(postern, path):
    r = subprocess.run([postern, "mime", "tree", "--json", path],
                       capture_output=True, timeout=TIMEOUT)
    if r.returncode != 0:
        return None, "exit %d: %s" % (r.returncode, r.stderr.decode(errors="replace").strip())
    try:
        return json.loads(r.stdout), None
    except ValueError as e:
        return None, "bad JSON: %s" % e


def postern_body(postern, path):
    r = subprocess.run([postern, "mime", "body", path], capture_output=True,
                       timeout=TIMEOUT)
    if r.returncode == 1:
        return None, None
    if r.returncode != 0:
        return None, "exit %d: %s" % (r.returncode, r.stderr.decode(errors="replace").strip())
    return r.stdout.decode("utf-8", errors="replace"), None


# ---- comparing -------------------------------------------------------------------

FIELDS = ("section", "depth", "type", "charset", "disposition", "filename",
          "size", "sha256")


def short(v, n=70):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= n or VERBOSE else s[:n - 3] + "..."


def norm_text(s):
    return None if s is None else s.replace("\r\n", "\n")


def norm_ws(s):
    return None if s is None else " ".join(str(s).split())


def compare(py_msg, py_rows, tree, body, body_err):
    """List of (field, expected, got)."""
    diffs = []
    pr = tree.get("parts", [])
    if [r["section"] for r in py_rows] != [p.get("section") for p in pr] or \
            [r["type"] for r in py_rows] != [p.get("type") for p in pr]:
        diffs.append(("parts",
                      ["%s %s" % (r["section"], r["type"]) for r in py_rows],
                      ["%s %s" % (p.get("section"), p.get("type")) for p in pr]))
    else:
        for r, p in zip(py_rows, pr):
            # A nested message's root can share its message part's section.
            where = "part[%s%s]" % (r["section"] or "root",
                                    " nested" if r.get("nested") else "")
            for k in FIELDS[1:]:
                if r[k] == "?":         # Python cannot tell (see leaf_bytes)
                    continue
                if r[k] != p.get(k):
                    diffs.append(("%s.%s" % (where, k), r[k], p.get(k)))
    try:
        subj = py_msg["subject"]
        subj = None if subj is None else str(subj)
    except Exception as e:          # Python's header parser gave up
        subj = "<python: %s>" % type(e).__name__
    if norm_ws(subj) != norm_ws(tree.get("subject")):
        diffs.append(("subject", subj, tree.get("subject")))
    try:
        want = norm_text(py_body(py_msg))
    except Exception as e:
        want = "<python: %s: %s>" % (type(e).__name__, e)
    if body_err:
        diffs.append(("body", short(want), "<postern %s>" % body_err))
    elif want != norm_text(body):
        diffs.append(("body", short(want), short(norm_text(body))))
    return diffs


def inputs(gen_dir):
    """[(name, path)]: the name is what EXCEPTIONS refers to."""
    out = []
    if os.path.isdir(CORPUS):
        out += [(f, os.path.join(CORPUS, f)) for f in sorted(os.listdir(CORPUS))
                if f.endswith(".eml")]
    index = os.path.join(DEMO, "index.txt")
    if os.path.exists(index):
        for line in open(index, encoding="utf-8"):
            if line.startswith("#") or not line.strip():
                continue
            key, rel, _ = line.rstrip("\n").split("\t", 2)
            out.append(("demo:" + key, os.path.join(DEMO, rel)))
    out += [("gen:" + f, os.path.join(gen_dir, f))
            for f in sorted(os.listdir(gen_dir)) if f.endswith(".eml")]
    return out


def check_one(postern, name, path, tree, tree_err):
    """(ok, line suffix, diagnostics)."""
    notes = []
    try:
        py_msg, py_rows = py_parts(path)
    except Exception as e:
        return False, "Python failed: %s: %s" % (type(e).__name__, e), notes
    if tree is None:
        return False, "postern mime tree failed: %s" % tree_err, notes
    for r in py_rows:
        if r.get("note"):
            notes.append("part[%s] size/sha256 not compared: %s"
                         % (r["section"] or "root", r["note"]))
    body, body_err = postern_body(postern, path)
    diffs = compare(py_msg, py_rows, tree, body, body_err)
    bad = []
    seen = set()
    for field, want, got in diffs:
        reason = EXCEPTIONS.get((name, field))
        if reason:
            seen.add(field)
            notes.append("known: %s: %s" % (field, reason))
        else:
            bad.append("%s: python %s, postern %s" % (field, short(want), short(got)))
    for (f, field), reason in EXCEPTIONS.items():
        if f == name and field not in seen:
            bad.append("exception no longer applies: %s (%s)" % (field, reason))
    if bad:
        return False, "; ".join(bad), notes
    return True, "", notes


def main():
    global VERBOSE
    args = sys.argv[1:]
    VERBOSE = "-v" in args
    only = args[args.index("--only") + 1] if "--only" in args else None
    postern = os.environ.get("POSTERN", os.path.join(TOP, "build", "postern"))
    if not os.path.isdir(CORPUS):
        print("1..1")
        print("not ok 1 - corpus: %s is missing (the public MIME corpus lives "
              "in ../shared/corpus next to the repository)" % CORPUS)
        return 1
    if not os.access(postern, os.X_OK):
        print("1..1")
        print("not ok 1 - %s not found or not executable (make, or set POSTERN)"
              % postern)
        return 1

    with tempfile.TemporaryDirectory(prefix="postern-diff-") as gen_dir:
        subprocess.run([sys.executable, GEN, "--seed", str(GEN_SEED), "--count",
                        str(GEN_COUNT), gen_dir], check=True,
                       stderr=subprocess.DEVNULL)
        files = inputs(gen_dir)
        if only:
            files = [(n, p) for n, p in files if only in n]
        trees = postern_trees(postern, [p for _, p in files])
        print("1..%d" % (len(files) + 2))
        failed = 0
        for i, (name, path) in enumerate(files, 1):
            tree, err = trees.get(path), None
            if tree is None:
                tree, err = postern_tree_one(postern, path)
            try:
                ok, why, notes = check_one(postern, name, path, tree, err)
            except subprocess.TimeoutExpired as e:
                ok, why, notes = False, "timeout: %s" % " ".join(e.cmd[:3]), []
            if ok:
                print("ok %d - %s" % (i, name))
            else:
                failed += 1
                print("not ok %d - %s: %s" % (i, name, why))
            for n in notes:
                if VERBOSE or n.startswith("known"):
                    print("# %s: %s" % (name, n))
        names = {n for n, _ in files}
        stale = sorted("%s %s" % k for k in EXCEPTIONS if k[0] not in names)
        n = len(files) + 1
        if stale and not only:
            failed += 1
            print("not ok %d - exceptions table: entries for files not in this run: %s"
                  % (n, ", ".join(stale)))
        else:
            print("ok %d - exceptions table: every entry names a file in this run" % n)
        # Parse -> write must give back every input byte for byte, the
        # malformed ones included.
        differ = []
        for name, path in files:
            with open(path, "rb") as f:
                want = f.read()
            p = subprocess.run([postern, "mime", "write", path],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=60)
            if p.returncode != 0 or p.stdout != want:
                differ.append(name)
        if differ:
            failed += 1
            print("not ok %d - parse -> write identity: %d of %d differ: %s"
                  % (n + 1, len(differ), len(files), ", ".join(differ[:10])))
        else:
            print("ok %d - parse -> write identity over all %d inputs"
                  % (n + 1, len(files)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
