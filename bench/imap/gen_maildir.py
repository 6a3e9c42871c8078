#!/usr/bin/env python3
"""gen_maildir.py - a large Maildir of plausible mail, fast.

    gen_maildir.py [--count 50000] [--seed 1] MAILDIR

Writes MAILDIR/{cur,new,tmp} with COUNT messages in cur/: realistic
header blocks (Received chains, Date, From/To/Cc with display names, some
RFC 2047 subjects, Message-ID, In-Reply-To/References for replies,
MIME-Version, Content-Type, list headers on some), bodies of plain text
(or a small multipart/alternative) so that sizes run from 2 KB to 50 KB,
mostly small (a log-normal around 5 KB).  Flags in the file names (most
seen, some answered or flagged) and file mtimes spread over two years,
which Dovecot reports as INTERNALDATE.  The same seed gives the same
bytes.  Prints the count and total bytes.

The index benchmark only needs headers to be realistic; bodies are filler
words so that RFC822.SIZE and the server's reading cost are honest.
tools/gen-corpus.py builds richer MIME structures but is tuned for the
MIME benchmark's large attachments and is much slower per message.
"""

import argparse
import math
import os
import random
import sys
import time

FIRST = ("Ana Ben Chloé Dmitri Eva Farid Greta Hiro Ines Jonas Kai Lena "
         "Marta Nils Olga Pavel Quinn Rosa Sven Tomás Uma Vera Wei Yusuf "
         "Zoë").split()
LAST = ("Andersen Brook Castillo Dubois Eriksen Fischer García Hansen "
        "Ivanova Jensen Kowalski López Müller Novak O'Brien Petrov Quist "
        "Rossi Schmidt Tanaka Urbán Virtanen Weber Xu Yilmaz Zimmermann"
        ).split()
DOMAINS = ("example.org example.com example.net mail.example.org "
           "lists.example.net corp.example.com").split()
WORDS = ("the harbour crane schedule ledger shipment invoice review draft "
         "berth pilot quay tide rota meeting agenda minutes budget sprint "
         "release branch patch parser header archive folder weekend ferry "
         "report quarterly numbers attached please find below thanks for "
         "your note about we should discuss this next week regarding plan "
         "update status delay cargo manifest customs clearance container "
         "vessel arrival departure estimate revised final version comments"
         ).split()
SUBJ_NONASCII = ("Überprüfung der Rechnung", "Réunion de l'équipe",
                 "Résumé: état du projet", "Ñandú y pingüinos",
                 "Отчёт за квартал", "会議の議事録")
LISTS = ("dev", "ops", "announce", "harbour-users")


def addr(rnd):
    f, l = rnd.choice(FIRST), rnd.choice(LAST)
    local = (f + "." + l).lower().replace("'", "")
    local = local.encode("ascii", "ignore").decode() or "user"
    name = f + " " + l
    if any(ord(c) > 127 for c in name):
        q = "".join(c if c.isalnum() and ord(c) < 128 else
                    "".join("=%02X" % b for b in c.encode())
                    for c in name.replace(" ", "_"))
        q = q.replace("=5F", "_")
        name = "=?UTF-8?Q?%s?=" % q
    elif "'" in name:
        name = '"%s"' % name
    return "%s <%s@%s>" % (name, local, rnd.choice(DOMAINS))


def b64_word(s):
    import base64
    return "=?UTF-8?B?%s?=" % base64.b64encode(s.encode()).decode()


def subject(rnd):
    r = rnd.random()
    if r < 0.08:
        s = b64_word(rnd.choice(SUBJ_NONASCII))
    else:
        s = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 9)))
        s = s[0].upper() + s[1:]
        if r < 0.02:
            s += ' "quoted" \\ part'
    if rnd.random() < 0.3:
        s = "Re: " + s
    return s


def body_len(rnd):
    # log-normal around 5 KB total, clamped to 2-50 KB
    n = int(math.exp(rnd.gauss(math.log(5000), 0.7)))
    return max(2048, min(50 * 1024, n))


_POOL = []


def filler(rnd, n):
    """About n bytes of whole lines, cut from a pool of random lines made
    once (generating every word per message was most of the run time)."""
    if not _POOL:
        prnd = random.Random(7)
        lines = []
        size = 0
        while size < 1 << 20:
            line = " ".join(prnd.choice(WORDS)
                            for _ in range(prnd.randint(6, 12)))
            lines.append(line)
            size += len(line) + 1
        text = "\n".join(lines) + "\n"
        _POOL.append(text)
        _POOL.append([i + 1 for i, c in enumerate(text) if c == "\n"])
    text, starts = _POOL
    i = rnd.randrange(len(starts) // 2)
    start = starts[i]
    end = text.find("\n", start + n) + 1
    return text[start:end]


def message(rnd, i, t):
    frm = addr(rnd)
    to = ", ".join(addr(rnd) for _ in range(rnd.choice((1, 1, 1, 2, 3))))
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))
    dom = rnd.choice(DOMAINS)
    mid = "<%d.%08x@%s>" % (i, rnd.getrandbits(32), dom)
    h = ["Return-Path: <%s>" % frm.split("<")[1].rstrip(">")]
    for hop in range(rnd.randint(1, 3)):
        h.append("Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\n"
                 "\tby mail.example.org (Postfix) with ESMTPS id %08X\n"
                 "\tfor <me@example.org>; %s" % (
                     hop, dom, hop, dom, rnd.randint(1, 254),
                     rnd.getrandbits(32), date))
    h += ["Date: " + date, "From: " + frm, "To: " + to]
    if rnd.random() < 0.25:
        h.append("Cc: " + addr(rnd))
    subj = subject(rnd)
    h.append("Subject: " + subj)
    h.append("Message-ID: " + mid)
    if subj.startswith("Re: ") and i > 0:
        ref = "<%d.%08x@%s>" % (rnd.randrange(i), rnd.getrandbits(32), dom)
        h += ["In-Reply-To: " + ref, "References: " + ref]
    if rnd.random() < 0.2:
        ln = rnd.choice(LISTS)
        h += ["List-Id: %s <%s.lists.example.net>" % (ln, ln),
              "List-Unsubscribe: <mailto:%s-leave@lists.example.net>" % ln,
              "Precedence: list"]
    h.append("MIME-Version: 1.0")
    n = body_len(rnd)
    if rnd.random() < 0.25:
        b = "b%016x" % rnd.getrandbits(64)
        text = filler(rnd, n // 2)
        html = "<html><body><p>" + filler(rnd, n // 2 - 40).replace(
            "\n", "</p>\n<p>") + "</p></body></html>\n"
        h.append('Content-Type: multipart/alternative; boundary="%s"' % b)
        body = ("--%s\nContent-Type: text/plain; charset=utf-8\n\n%s"
                "--%s\nContent-Type: text/html; charset=utf-8\n\n%s"
                "--%s--\n" % (b, text, b, html, b))
    else:
        h.append("Content-Type: text/plain; charset=utf-8")
        h.append("Content-Transfer-Encoding: 8bit")
        body = filler(rnd, n)
    return ("\n".join(h) + "\n\n" + body).encode()


def flags(rnd):
    f = ""
    if rnd.random() < 0.1:
        f += "F"
    if rnd.random() < 0.15:
        f += "R"
    if rnd.random() < 0.85:
        f += "S"
    return f


def generate(maildir, count, seed=1):
    rnd = random.Random(seed)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    cur = os.path.join(maildir, "cur")
    t = time.time() - 2 * 365 * 86400
    step = 2 * 365 * 86400 / max(count, 1)
    total = 0
    for i in range(count):
        t += rnd.uniform(0, 2 * step)
        data = message(rnd, i, int(t))
        name = "%d.M%dP%d.bench,S=%d:2,%s" % (int(t), i, os.getpid(),
                                              len(data), flags(rnd))
        path = os.path.join(cur, name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (t, t))
        total += len(data)
    return count, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("maildir")
    a = ap.parse_args()
    n, total = generate(a.maildir, a.count, a.seed)
    print("%d messages, %d bytes" % (n, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
