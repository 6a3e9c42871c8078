#!/usr/bin/env python3
"""gen-corpus.py - realistic random mail for tests and benchmarks.

Writes messages shaped like a real mailbox: mostly short text and
html+plain mail, some with inline images, a minority with attachments of
100 KB to 10 MB, forwards, digests, reports and invitations; several
charsets and transfer encodings, LF or CRLF line endings, RFC 2047 words
and RFC 2231 file names.  Every message is built here from a seeded random
generator, so the same arguments give the same bytes.  Nothing is copied
from real mail.

  gen-corpus.py [--seed N] --count N OUTDIR
      the differential-test mix: N small messages (attachments <= 200 KB),
      many structures; OUTDIR/msg-NNNNNN.eml plus OUTDIR/files.txt
  gen-corpus.py [--seed N] --total-mb M --bench OUTDIR
      the benchmark mix: messages until about M MB, attachment sizes as
      in real mail (100 KB - 10 MB); files.txt lists them
  gen-corpus.py [--seed N] --big-mb M OUTFILE
      one message with an M MB base64 attachment, streamed to disk (never
      held in memory); prints the attachment's size and SHA-256

Python 3.11 standard library only.
"""

import argparse
import base64
import binascii
import hashlib
import math
import os
import random
import sys
from urllib.parse import quote

# ---- vocabulary --------------------------------------------------------------

WORDS = {
    "en": ("the a harbour crane schedule ledger shipment invoice review draft "
           "berth pilot quay tide rota meeting agenda minutes budget sprint "
           "release branch patch parser header archive folder weekend ferry "
           "please thanks update report attached below regarding customer "
           "order delivery account password reset team project deadline").split(),
    "de": ("Grüße Straße Übersicht Vertrag Bestätigung Rechnung Lieferung "
           "Besprechung morgen heute bitte danke Änderung Größe schön für "
           "über Zeitplan Kosten Angebot").split(),
    "fr": ("réunion échéance facture livraison été hôtel déjà très élève "
           "garçon naïve merci bonjour à demain première étape").split(),
    "es": ("reunión mañana año niño señor factura envío información "
           "gracias saludos próxima página").split(),
    "pl": ("zażółć gęślą jaźń spotkanie faktura dostawa dziękuję "
           "pozdrawiam jutro").split(),
    "ru": ("привет встреча счёт доставка спасибо завтра отчёт проект "
           "команда").split(),
    "ja": ("会議 議事録 請求書 配送 ありがとう 明日 報告 プロジェクト "
           "よろしくお願いします").split(),
    "el": "καλημέρα συνάντηση τιμολόγιο ευχαριστώ αύριο".split(),
}

# (language, charsets its text can be written in)
LANG_CHARSETS = {
    "en": ["us-ascii", "utf-8", "iso-8859-1"],
    "de": ["utf-8", "iso-8859-1", "iso-8859-15", "windows-1252"],
    "fr": ["utf-8", "iso-8859-1", "windows-1252"],
    "es": ["utf-8", "iso-8859-1"],
    "pl": ["utf-8", "iso-8859-2"],
    "ru": ["utf-8", "koi8-r", "windows-1251"],
    "ja": ["utf-8", "iso-2022-jp", "shift_jis"],
    "el": ["utf-8", "iso-8859-7"],
}

FIRST = ("Ada Bruno Chidi Dóra Elif François Greta Hiro Inês Jonas Kalani "
         "Lena Mateus Noor Olga Pavel Quinn Rosa Søren Tomás Uma Vera "
         "Wiktor Xiu Yusuf Zoë").split()
LAST = ("Lindqvist Castellanos Okafor Szabó Yılmaz Dupré Müller Sato "
        "Carvalho Berg Kahale Novak Rocha Haddad Ivanova Horák Ng Ortiz "
        "Jørgensen García Rao Weiß Nowak Chen Demir Brandt").split()
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.de",
           "corp.example.fr", "lists.example.org", "example.co.jp"]

ATTACH_KINDS = [
    # (content type, extension, binary?)
    ("application/pdf", "pdf", True),
    ("application/zip", "zip", True),
    ("image/jpeg", "jpg", True),
    ("image/png", "png", True),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     "docx", True),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     "xlsx", True),
    ("application/octet-stream", "bin", True),
    ("text/csv", "csv", False),
    ("text/plain", "txt", False),
    ("application/json", "json", False),
]

FILE_STEMS = ["report", "Übersicht", "invoice-2024-03", "Protokoll März",
              "photo", "scan_0042", "contrat signé", "presupuesto año",
              "budget final (v3)", "議事録", "отчёт", "diagram", "notes"]


class Gen:
    """One seeded generator; every choice goes through self.r."""

    def __init__(self, seed, eol=b"\n"):
        self.r = random.Random(seed)
        self.eol = eol
        self.n = 0

    # -- small pieces ---------------------------------------------------------

    def person(self):
        r = self.r
        first, last = r.choice(FIRST), r.choice(LAST)
        local = (first + "." + last).lower().encode("ascii", "ignore").decode()
        return first + " " + last, "%s@%s" % (local or "user", r.choice(DOMAINS))

    def words(self, lang, n):
        r = self.r
        vocab = WORDS[lang] + WORDS["en"] * (lang != "en")
        out, line = [], []
        for _ in range(n):
            line.append(r.choice(vocab))
            if len(" ".join(line)) > r.randint(50, 72):
                out.append(" ".join(line))
                line = []
                if r.random() < 0.12:
                    out.append("")
        if line:
            out.append(" ".join(line))
        return "\n".join(out) + "\n"

    def lang_charset(self):
        r = self.r
        lang = r.choices(list(WORDS), weights=[60, 8, 8, 5, 4, 5, 6, 4])[0]
        return lang, r.choice(LANG_CHARSETS[lang])

    def encword(self, text, charset="utf-8"):
        """RFC 2047-encode text if it is not ASCII (B or Q, as mailers do)."""
        if text.isascii():
            return text
        data = text.encode(charset)
        if self.r.random() < 0.5:
            return "=?%s?B?%s?=" % (charset, base64.b64encode(data).decode())
        q = "".join(chr(b) if (48 <= b < 58 or 65 <= b < 91 or 97 <= b < 123)
                    else "_" if b == 32 else "=%02X" % b for b in data)
        return "=?%s?Q?%s?=" % (charset, q)

    def address(self):
        name, mail = self.person()
        if name.isascii():
            return '"%s" <%s>' % (name, mail) if self.r.random() < 0.3 \
                else "%s <%s>" % (name, mail)
        return "%s <%s>" % (self.encword(name), mail)

    def date(self):
        r = self.r
        days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                  "Sep", "Oct", "Nov", "Dec"]
        return "%s, %d %s %d %02d:%02d:%02d %s" % (
            r.choice(days), r.randint(1, 28), r.choice(months),
            r.randint(2019, 2024), r.randint(0, 23), r.randint(0, 59),
            r.randint(0, 59), r.choice(["+0000", "+0100", "+0200", "-0500",
                                        "+0900", "-0800", "+0530"]))

    def boundary(self):
        r = self.r
        style = r.randrange(4)
        if style == 0:
            return "----=_Part_%d_%d.%d" % (r.randrange(10**6), r.randrange(10**9),
                                            r.randrange(10**13))
        if style == 1:
            return "%028x" % r.getrandbits(112)
        if style == 2:
            return "_%03d_%s_" % (r.randrange(1000), "".join(
                r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(40)))
        return "=_%s" % "".join(r.choice("abcdef0123456789") for _ in range(32))

    def filename(self, ext):
        stem = self.r.choice(FILE_STEMS)
        return "%s.%s" % (stem, ext)

    def name_params(self, fname):
        """Content-Disposition filename and Content-Type name parameters,
        written the ways real mailers write non-ASCII names."""
        if fname.isascii():
            q = '"%s"' % fname if (" " in fname or "(" in fname) else fname
            return "; filename=%s" % q, "; name=%s" % q
        style = self.r.randrange(3)
        if style == 0:      # RFC 2231 (Thunderbird, Apple Mail)
            enc = "UTF-8''" + quote(fname.encode("utf-8"), safe="")
            return "; filename*=%s" % enc, "; name*=%s" % enc
        if style == 1:      # RFC 2047 inside quotes (Outlook, Gmail)
            w = self.encword(fname)
            return '; filename="%s"' % w, '; name="%s"' % w
        # RFC 2231 continuations, split between characters
        pieces, cur = [], ""
        for ch in fname:
            q = quote(ch.encode("utf-8"), safe="")
            if len(cur) + len(q) > 24:
                pieces.append(cur)
                cur = ""
            cur += q
        pieces.append(cur)
        cont = "".join(";\n filename*%d*=%s%s" % (i, "UTF-8''" if i == 0 else "", p)
                       for i, p in enumerate(pieces))
        return cont, "; name*=UTF-8''" + quote(fname.encode("utf-8"), safe="")

    # -- encoders -------------------------------------------------------------

    def b64(self, data):
        width = self.r.choice([76, 76, 76, 72, 64])
        raw = base64.b64encode(data)
        return b"\n".join(raw[i:i + width] for i in range(0, len(raw), width)) + b"\n"

    @staticmethod
    def qp(data):
        return binascii.b2a_qp(data, istext=True)

    def encode_text(self, text, charset):
        """(cte, body bytes) for text in charset, as a mailer would choose."""
        raw = text.encode(charset)
        if charset == "iso-2022-jp" or raw.isascii():
            return (self.r.choice(["7bit", "7bit", "quoted-printable"]), raw) \
                if raw.isascii() else ("7bit", raw)
        cte = self.r.choices(["8bit", "quoted-printable", "base64"],
                             weights=[3, 5, 2])[0]
        if cte == "8bit":
            return cte, raw
        if cte == "quoted-printable":
            return cte, self.qp(raw)
        return cte, self.b64(raw)

    # -- parts (lists of header lines + body, joined with LF; eol applied at
    #    the end) ------------------------------------------------------------

    @staticmethod
    def part(headers, body):
        return b"\n".join(h.encode("utf-8") for h in headers) + b"\n\n" + body

    def text_leaf(self, subtype="plain", lang=None, charset=None, nwords=None,
                  extra=()):
        r = self.r
        if lang is None:
            lang, charset = self.lang_charset()
        nwords = nwords or int(r.lognormvariate(4.5, 0.9)) + 5
        text = self.words(lang, nwords)
        if subtype == "html":
            paras = text.split("\n\n")
            text = ("<html><head><meta charset=\"%s\"></head><body>\n" % charset
                    + "".join("<p style=\"margin:0 0 1em\">%s</p>\n" %
                              p.replace("\n", "<br>\n") for p in paras)
                    + "</body></html>\n")
        cte, body = self.encode_text(text, charset)
        cs = '"%s"' % charset if r.random() < 0.5 else charset
        h = ["Content-Type: text/%s; charset=%s" % (subtype, cs)]
        if cte != "7bit" or r.random() < 0.6:
            h.append("Content-Transfer-Encoding: %s" % cte)
        return self.part(h + list(extra), body), lang, charset

    def alternative(self, lang=None, charset=None):
        if lang is None:
            lang, charset = self.lang_charset()
        plain, _, _ = self.text_leaf("plain", lang, charset)
        html, _, _ = self.text_leaf("html", lang, charset,
                                    nwords=self.r.randint(80, 4000))
        return self.multipart("alternative", [plain, html])

    def multipart(self, subtype, parts, params="", preamble=True):
        b = self.boundary()
        h = 'Content-Type: multipart/%s;\n boundary="%s"%s' % (subtype, b, params)
        out = [h.encode(), b"\n\n"]
        if preamble and self.r.random() < 0.4:
            out.append(b"This is a multi-part message in MIME format.\n")
        for p in parts:
            # The line break before a delimiter belongs to the delimiter
            # (RFC 2046 5.1.1), except right after the header block.
            sep = b"" if out[-1] == b"\n\n" else b"\n"
            out.append(sep + b"--" + b.encode() + b"\n" + p)
        out.append(b"\n--" + b.encode() + b"--\n")
        if self.r.random() < 0.1:
            out.append(b"\n")
        return b"".join(out)

    def binary(self, n, kind):
        """n bytes that look enough like the kind for sniffers; mostly
        random (compressed formats are)."""
        r = self.r
        magic = {"pdf": b"%PDF-1.5\n", "zip": b"PK\x03\x04", "docx": b"PK\x03\x04",
                 "xlsx": b"PK\x03\x04", "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
                 "png": b"\x89PNG\r\n\x1a\n"}.get(kind, b"")
        return magic + r.randbytes(max(0, n - len(magic)))

    def attachment(self, size, inline=False, cid=None, kinds=None):
        r = self.r
        ctype, ext, is_bin = r.choice(kinds or ATTACH_KINDS)
        fname = self.filename(ext)
        fn_param, name_param = self.name_params(fname)
        if is_bin:
            body = self.b64(self.binary(size, ext))
            cte = "base64"
        else:
            lines = []
            total = 0
            while total < size:
                line = ",".join(str(r.randrange(10**6)) for _ in range(r.randint(3, 9)))
                lines.append(line)
                total += len(line) + 1
            raw = ("\n".join(lines) + "\n").encode()
            cte = r.choice(["base64", "quoted-printable", "7bit"])
            body = {"base64": self.b64, "quoted-printable": self.qp,
                    "7bit": lambda x: x}[cte](raw)
            ctype += "; charset=us-ascii"
        disp = "inline" if inline else "attachment"
        h = ["Content-Type: %s%s" % (ctype, name_param if r.random() < 0.8 else ""),
             "Content-Disposition: %s%s" % (disp, fn_param),
             "Content-Transfer-Encoding: %s" % cte]
        if cid:
            h.append("Content-ID: <%s>" % cid)
        if r.random() < 0.2:
            h.insert(0, "Content-Description: %s" % fname.encode(
                "ascii", "replace").decode())
        return self.part(h, body)

    def att_size(self, bench):
        r = self.r
        if bench:   # log-uniform 100 KB .. 10 MB
            return int(math.exp(r.uniform(math.log(100e3), math.log(10e6))))
        return int(math.exp(r.uniform(math.log(300), math.log(200e3))))

    def image(self, bench):
        r = self.r
        size = int(math.exp(r.uniform(math.log(2e3), math.log(300e3 if bench else 40e3))))
        cid = "img%d.%x@%s" % (r.randrange(1000), r.getrandbits(48), r.choice(DOMAINS))
        return self.attachment(size, inline=True, cid=cid, kinds=[
            ("image/png", "png", True), ("image/jpeg", "jpg", True),
            ("image/gif", "gif", True)]), cid

    def related(self, bench, lang, charset):
        r = self.r
        imgs = [self.image(bench) for _ in range(r.randint(1, 4))]
        html, _, _ = self.text_leaf("html", lang, charset, nwords=r.randint(50, 800))
        parts = [html] + [p for p, _ in imgs]
        rel = self.multipart("related", parts, params='; type="text/html"')
        plain, _, _ = self.text_leaf("plain", lang, charset)
        return self.multipart("alternative", [plain, rel])

    # -- whole messages --------------------------------------------------------

    def envelope(self, subject_lang, charset):
        r = self.r
        h = []
        for i in range(r.choice([0, 1, 2, 3, 5])):
            h.append("Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\n\tby mail.%s "
                     "with ESMTPS id %x\n\tfor <someone@%s>; %s" % (
                         i, r.choice(DOMAINS), i, r.choice(DOMAINS), r.randrange(1, 255),
                         r.choice(DOMAINS), r.getrandbits(40), r.choice(DOMAINS),
                         self.date()))
        if r.random() < 0.3:
            sig = base64.b64encode(r.randbytes(180)).decode()
            h.append("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\n"
                     "\ts=sel1; h=from:to:subject:date:message-id;\n\tb=%s\n\t %s"
                     % (r.choice(DOMAINS), sig[:60], sig[60:]))
        subj = self.words(subject_lang, r.randint(2, 9)).replace("\n", " ").strip()
        if r.random() < 0.25:
            subj = r.choice(["Re: ", "RE: ", "Fwd: ", "AW: ", "Réf : "]) + subj
        sc = charset if charset not in ("us-ascii", "iso-2022-jp") else "utf-8"
        try:
            subj.encode(sc)
        except UnicodeEncodeError:
            sc = "utf-8"
        h += ["From: %s" % self.address(),
              "To: %s" % ", ".join(self.address() for _ in range(r.choice([1, 1, 2, 3]))),
              "Subject: %s" % self.encword(subj, sc),
              "Date: %s" % self.date(),
              "Message-ID: <%x.%d@%s>" % (r.getrandbits(64), self.n, r.choice(DOMAINS))]
        if r.random() < 0.3:
            h.append("Cc: %s" % self.address())
        if r.random() < 0.3:
            ref = "<%x@%s>" % (r.getrandbits(48), r.choice(DOMAINS))
            h += ["In-Reply-To: %s" % ref, "References: %s" % ref]
        h.append("MIME-Version: 1.0")
        return h

    def message(self, bench, depth=0):
        """One message as bytes with LF line endings."""
        r = self.r
        self.n += 1
        lang, charset = self.lang_charset()
        head = self.envelope(lang, charset)
        kinds = ["plain", "alternative", "related", "attach", "forward",
                 "digest", "report", "calendar", "signed"]
        weights = [45, 25, 8, 12, 4, 1, 2, 1, 2] if bench else \
            [22, 18, 10, 22, 10, 4, 4, 4, 6]
        if depth > 1:
            weights = weights[:3] + [0] * 6
        kind = r.choices(kinds, weights=weights)[0]
        if kind == "plain":
            leaf, _, _ = self.text_leaf("plain", lang, charset)
            return b"\n".join(x.encode() for x in head) + b"\n" + leaf
        if kind == "alternative":
            body = self.alternative(lang, charset)
        elif kind == "related":
            body = self.related(bench, lang, charset)
        elif kind == "attach":
            first = r.choice([lambda: self.text_leaf("plain", lang, charset)[0],
                              lambda: self.alternative(lang, charset)])()
            atts = [self.attachment(self.att_size(bench))
                    for _ in range(r.choices([1, 2, 3, 5], weights=[60, 25, 10, 5])[0])]
            body = self.multipart("mixed", [first] + atts)
        elif kind == "forward":
            inner = self.message(bench, depth + 1)
            note, _, _ = self.text_leaf("plain", lang, charset, nwords=r.randint(3, 40))
            disp = r.choice(["", "\nContent-Disposition: inline",
                             "\nContent-Disposition: attachment; filename=\"fwd.eml\""])
            fwd = ("Content-Type: message/rfc822" + disp).encode() + b"\n\n" + inner
            body = self.multipart("mixed", [note, fwd])
        elif kind == "digest":
            msgs = []
            for _ in range(r.randint(2, 5)):
                leaf, _, _ = self.text_leaf("plain", "en", "us-ascii", nwords=r.randint(10, 200))
                hh = "From: %s\nSubject: %s\nDate: %s\n" % (
                    self.address(), self.words("en", 4).strip(), self.date())
                msgs.append(b"\n" + hh.encode() + leaf)
            toc, _, _ = self.text_leaf("plain", "en", "us-ascii", nwords=30)
            body = self.multipart("mixed", [toc, self.multipart("digest", msgs)])
        elif kind == "report":
            note, _, _ = self.text_leaf("plain", "en", "us-ascii", nwords=40)
            dsn = ("Reporting-MTA: dns; mx.%s\n\nFinal-Recipient: rfc822; x@%s\n"
                   "Action: failed\nStatus: 5.1.1\n" % (r.choice(DOMAINS),
                                                        r.choice(DOMAINS))).encode()
            orig = "\n".join(self.envelope("en", "us-ascii")).encode() + b"\n"
            body = self.multipart("report", [
                note, b"Content-Type: message/delivery-status\n\n" + dsn,
                b"Content-Type: text/rfc822-headers\n\n" + orig],
                params="; report-type=delivery-status")
        elif kind == "calendar":
            ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
                   "BEGIN:VEVENT\r\nUID:%x@example.com\r\nSUMMARY:%s\r\n"
                   "DTSTART:20240%d1%dT090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                   % (r.getrandbits(64), self.words("en", 4).strip(),
                      r.randint(1, 9), r.randint(0, 9))).encode()
            plain, _, _ = self.text_leaf("plain", lang, charset, nwords=30)
            cal = (b"Content-Type: text/calendar; charset=utf-8; method=REQUEST\n"
                   b"Content-Transfer-Encoding: base64\n\n" + self.b64(ics))
            body = self.multipart("alternative", [plain, cal])
        else:  # signed
            inner, _, _ = self.text_leaf("plain", lang, charset)
            sig = (b"Content-Type: application/pgp-signature; name=\"signature.asc\"\n"
                   b"Content-Disposition: attachment; filename=\"signature.asc\"\n\n"
                   b"-----BEGIN PGP SIGNATURE-----\n\n"
                   + base64.encodebytes(r.randbytes(300))
                   + b"-----END PGP SIGNATURE-----\n")
            body = self.multipart("signed", [inner, sig],
                                  params='; micalg=pgp-sha256;\n protocol='
                                  '"application/pgp-signature"')
        return b"\n".join(x.encode() for x in head) + b"\n" + body

    def finish(self, data):
        """Apply the line ending (CRLF for about a fifth of messages)."""
        if self.r.random() < 0.2:
            return data.replace(b"\n", b"\r\n")
        return data


def write_many(outdir, seed, count=None, total_mb=None, bench=False):
    os.makedirs(outdir, exist_ok=True)
    g = Gen(seed)
    paths, total, i = [], 0, 0
    limit = total_mb * 1e6 if total_mb else None
    while (count is not None and i < count) or (limit is not None and total < limit):
        i += 1
        data = g.finish(g.message(bench))
        path = os.path.join(outdir, "msg-%06d.eml" % i)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
        total += len(data)
    with open(os.path.join(outdir, "files.txt"), "w") as f:
        f.write("".join(p + "\n" for p in paths))
    print("gen-corpus: %d messages, %.1f MB in %s" % (len(paths), total / 1e6, outdir),
          file=sys.stderr)


def write_big(path, seed, mb):
    """A message with one mb-MB base64 attachment, written in chunks."""
    r = random.Random(seed)
    h = hashlib.sha256()
    size = mb * 1024 * 1024
    head = ("From: Big Sender <big@example.com>\nTo: someone@example.org\n"
            "Subject: a %d MB attachment\nDate: Mon, 1 Apr 2024 10:00:00 +0000\n"
            "Message-ID: <big.%d@example.com>\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=\"big-boundary-7f3a\"\n\n"
            "--big-boundary-7f3a\nContent-Type: text/plain; charset=us-ascii\n\n"
            "The attachment is large.\n\n--big-boundary-7f3a\n"
            "Content-Type: application/octet-stream; name=\"big.bin\"\n"
            "Content-Disposition: attachment; filename=\"big.bin\"\n"
            "Content-Transfer-Encoding: base64\n\n" % (mb, seed)).encode()
    chunk = 57 * 1024 * 16      # multiple of 57: whole 76-column lines
    with open(path, "wb") as f:
        f.write(head)
        left = size
        while left > 0:
            n = min(chunk, left)
            data = r.randbytes(n)
            h.update(data)
            f.write(base64.encodebytes(data))
            left -= n
        f.write(b"\n--big-boundary-7f3a--\n")
    print("%d %s" % (size, h.hexdigest()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int)
    ap.add_argument("--total-mb", type=float)
    ap.add_argument("--bench", action="store_true",
                    help="benchmark sizes (attachments 100 KB - 10 MB)")
    ap.add_argument("--big-mb", type=int)
    ap.add_argument("out")
    a = ap.parse_args()
    if a.big_mb:
        write_big(a.out, a.seed, a.big_mb)
    elif a.count or a.total_mb:
        write_many(a.out, a.seed, count=a.count, total_mb=a.total_mb, bench=a.bench)
    else:
        ap.error("one of --count, --total-mb or --big-mb is needed")


if __name__ == "__main__":
    main()
