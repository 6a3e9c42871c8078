#!/usr/bin/env python3
"""gen-demo.py - write share/demo/, the demo Maildir.

About fifty made-up messages that show the MIME engine off: plain text in
several charsets, html+plain alternatives, related html with inline images,
attachments with RFC 2231 and RFC 2047 names, forwards, a digest, a signed
message, a calendar invite, a bounce, and a handful of broken messages of the
kinds real mail contains.  Everything is built here, byte by byte; no mail is
copied from anywhere.

The output is deterministic (fixed seed, fixed dates, fixed boundaries), so
running it again gives the same files and git shows no change.  Besides the
Maildir (cur/, new/, tmp/) it writes share/demo/index.txt, one line per
message: key, path, description; tools/demo.sh picks messages by key.

usage: tools/gen-demo.py [OUTDIR]      (default: share/demo next to tools/)
"""

import base64
import binascii
import datetime as dt
import io
import os
import random
import struct
import sys
import zipfile
import zlib
from email.header import Header
from email.utils import format_datetime, formataddr

SEED = 20240501
EPOCH = dt.datetime(2024, 4, 2, 8, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
NL = b"\n"

rng = random.Random(SEED)

# ---- people and threads ----------------------------------------------------

PEOPLE = {
    "ada": ("Ada Lindqvist", "ada@lindqvist.example.org"),
    "bruno": ("Bruno Castellanos", "bruno.c@harbourworks.example.com"),
    "chidi": ("Chidi Okafor", "chidi@okafor.example.net"),
    "dora": ("Dóra Szabó", "dora.szabo@example.hu"),
    "elif": ("Elif Yılmaz", "elif@kuzey.example.com.tr"),
    "francois": ("François Dupré", "fdupre@atelier-dupre.example.fr"),
    "greta": ("Greta Müller", "greta.mueller@example.de"),
    "hiro": ("佐藤 弘", "hiro.sato@example.jp"),
    "ines": ("Inês Carvalho", "ines@carvalho.example.pt"),
    "list": ("Harbourworks Dev", "dev@lists.harbourworks.example.com"),
    "news": ("Allotment News", "news@allotment.example.org"),
    "cal": ("Harbourworks Calendar", "calendar@harbourworks.example.com"),
    "daemon": ("Mail Delivery System", "MAILER-DAEMON@mx1.harbourworks.example.com"),
    "billing": ("Lantern Hosting Billing", "billing@lantern-hosting.example.net"),
    "you": ("Sam Demo", "sam@postern.example"),
}


def addr(key, charset="utf-8"):
    name, mail = PEOPLE[key]
    return formataddr((name, mail), charset=charset)


def date(n):
    """The n-th message date: a few hours apart, from EPOCH on."""
    return EPOCH + dt.timedelta(hours=5 * n, minutes=(n * 37) % 60)


def enc_subject(text, charset="utf-8"):
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        return Header(text, charset, maxlinelen=76).encode()


# ---- byte-level builder ----------------------------------------------------
# Kept deliberately simple: a part is (header list, body bytes); a multipart
# joins parts with a boundary we choose, so the output never changes.


def fold(name, value):
    """A header field; value is already ASCII (or raw 8-bit on purpose)."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return name.encode("ascii") + b": " + value


def part(headers, body):
    head = NL.join(fold(n, v) for n, v in headers)
    return head + NL + NL + body


def b64(data):
    return base64.encodebytes(data)  # 76-column lines, LF


def qp(data):
    return binascii.b2a_qp(data, istext=True).replace(b"\r\n", b"\n")


def multipart(subtype, boundary, parts, headers=(), params="",
              preamble=b"", epilogue=b"", close=True):
    ct = 'multipart/%s; boundary="%s"%s' % (subtype, boundary, params)
    out = [NL.join(fold(n, v) for n, v in list(headers) + [("Content-Type", ct)])]
    out.append(NL + NL)
    if preamble:
        out.append(preamble)
    for p in parts:
        out.append(b"--" + boundary.encode() + NL + p + NL)
    if close:
        out.append(b"--" + boundary.encode() + b"--" + NL)
    if epilogue:
        out.append(epilogue)
    return b"".join(out)


def envelope(n, frm, to, subject, msgid, reply_to_ids=(), cc=None,
             extra=(), mime=True, subject_charset="utf-8"):
    h = [("From", addr(frm)), ("To", addr(to) if to in PEOPLE else to)]
    if cc:
        h.append(("Cc", ", ".join(addr(c) for c in cc)))
    h.append(("Subject", enc_subject(subject, subject_charset)))
    h.append(("Date", format_datetime(date(n))))
    h.append(("Message-ID", "<%s>" % msgid))
    if reply_to_ids:
        h.append(("In-Reply-To", "<%s>" % reply_to_ids[-1]))
        h.append(("References", " ".join("<%s>" % r for r in reply_to_ids)))
    h.extend(extra)
    if mime:
        h.append(("MIME-Version", "1.0"))
    return h


def text_part(text, charset="utf-8", cte=None, subtype="plain", extra=()):
    raw = text.encode(charset)
    if cte is None:
        cte = "7bit" if max(raw, default=0) < 128 else "quoted-printable"
    body = {"7bit": raw, "8bit": raw, "quoted-printable": qp(raw),
            "base64": b64(raw)}[cte]
    h = [("Content-Type", 'text/%s; charset="%s"' % (subtype, charset)),
         ("Content-Transfer-Encoding", cte)]
    return h + list(extra), body


def leaf(text, **kw):
    h, body = text_part(text, **kw)
    return part(h, body)


def attachment(data, ctype, filename_header, disposition="attachment",
               extra=()):
    h = [("Content-Type", ctype),
         ("Content-Disposition", disposition + filename_header),
         ("Content-Transfer-Encoding", "base64")]
    return part(h + list(extra), b64(data))


def rfc2231(name, value, charset="UTF-8", lang=""):
    from urllib.parse import quote
    return "; %s*=%s'%s'%s" % (name, charset, lang,
                               quote(value.encode(charset), safe=""))


def plain_name(name, value):
    return '; %s="%s"' % (name, value)


# ---- generated binary payloads ---------------------------------------------


def png(width, height, pixel):
    """An RGB PNG; pixel(x, y) -> (r, g, b)."""
    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in pixel(x, y))
        for y in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


def logo_png():
    def px(x, y):
        d = (x - 31.5) ** 2 + (y - 31.5) ** 2
        if d < 20 ** 2:
            return (20, 90 + (x * 2), 160)
        if d < 26 ** 2:
            return (240, 180, 40)
        return (250, 250, 250)
    return png(64, 64, px)


def chart_png():
    heights = [12, 30, 22, 41, 37, 50]

    def px(x, y):
        bar = x // 20
        if x % 20 < 3 or bar >= len(heights):
            return (255, 255, 255)
        if 60 - y <= heights[bar]:
            return (60 + bar * 30, 120, 200 - bar * 20)
        return (255, 255, 255)
    return png(120, 60, px)


def photo_png(seed):
    r = random.Random(seed)
    base = [r.randrange(256) for _ in range(3)]

    def px(x, y):
        return tuple((base[i] + x * (i + 1) + y * (3 - i) + r.randrange(24)) % 256
                     for i in range(3))
    return png(96, 72, px)


def tiny_pdf(title, lines):
    """A small but well-formed one-page PDF."""
    text = "BT /F1 14 Tf 72 760 Td (%s) Tj ET\n" % title
    for i, line in enumerate(lines):
        text += "BT /F1 10 Tf 72 %d Td (%s) Tj ET\n" % (730 - 14 * i, line)
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length %d >>\nstream\n%sendstream" % (len(text), text),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(("%d 0 obj\n%s\nendobj\n" % (i, o)).encode("latin-1"))
    xref = out.tell()
    out.write(("xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)).encode())
    for off in offsets:
        out.write(("%010d 00000 n \n" % off).encode())
    out.write(("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
               % (len(objs) + 1, xref)).encode())
    return out.getvalue()


def tiny_zip(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(2024, 4, 1, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


def lorem(words, seed):
    r = random.Random(seed)
    vocab = ("the harbour crane schedule ledger shipment invoice review draft "
             "berth pilot quay tide rota allotment compost seedlings meeting "
             "agenda minutes budget sprint release branch patch parser "
             "boundary header archive folder weekend ferry bakery").split()
    out, line = [], []
    for i in range(words):
        line.append(r.choice(vocab))
        if len(" ".join(line)) > 64:
            out.append(" ".join(line))
            line = []
    if line:
        out.append(" ".join(line))
    return "\n".join(out) + "\n"


# ---- the messages ------------------------------------------------------------

MESSAGES = []   # (key, folder, flags, description, bytes)


def add(key, desc, data, flags="S", folder="cur"):
    MESSAGES.append((key, folder, flags, desc, data))


def mid(tag):
    return "%s@postern-demo.example" % tag


def thread_offsite():
    """Thread 1: planning a team offsite; plain replies with quoting."""
    ids = []
    people = ["ada", "bruno", "chidi", "ada", "elif", "bruno"]
    texts = [
        "Hi all,\n\nI'd like to book the boathouse for our Q3 offsite. Two "
        "options:\n\n  1. Thu 12 Sep - Fri 13 Sep\n  2. Thu 26 Sep - Fri 27 Sep\n\n"
        "Please reply with your preference by Friday.\n\nAda\n",
        "Option 2 works better for me; the crane refit ends on the 20th.\n\n"
        "Bruno\n",
        "Either is fine. Could we keep the Friday afternoon free for the "
        "harbour walk?\n\n-- \nChidi Okafor\n",
        "Noted. Going with 26-27 Sep unless someone objects today.\n\nAda\n",
        "Works for me. I'll bring the projector — and the good coffee ☕.\n\n"
        "Elif\n",
        "Booked the ferry for 08:40 on the 26th. Tickets attached later.\n",
    ]
    quote = ""
    for i, (who, text) in enumerate(zip(people, texts)):
        subject = "Q3 offsite: dates" if i == 0 else "Re: Q3 offsite: dates"
        n = len(MESSAGES)
        tag = "offsite-%d" % i
        body = text + (("\n" + quote) if quote else "")
        h = envelope(n, who, "list", subject, mid(tag), reply_to_ids=list(ids))
        charset = "us-ascii" if max(body.encode("utf-8")) < 128 else "utf-8"
        th, tb = text_part(body, charset=charset)
        add(tag, "thread: Q3 offsite, message %d (%s)" % (i + 1, charset),
            part(h + th, tb), flags="RS" if i < 3 else "S")
        ids.append(mid(tag))
        quote = "".join("> " + line + "\n" for line in text.splitlines())


def plain_variants():
    n = len(MESSAGES)
    h = envelope(n, "hiro", "you", "会議の議事録 / Meeting notes (UTF-8)",
                 mid("utf8-notes"))
    text = ("Hello Sam,\n\n議事録を送ります。Here are the notes.\n\n"
            "• Ελληνικά: Καλημέρα\n• Русский: Привет\n• Emoji: 🚢 ⚓ 🌊\n"
            "• Math: ∑ x² ≤ ∞\n\nよろしくお願いします。\n弘\n")
    th, tb = text_part(text, charset="utf-8", cte="8bit")
    add("utf8", "plain text, UTF-8, 8bit: Japanese, Greek, Cyrillic, emoji",
        part(h + th, tb))

    n = len(MESSAGES)
    h = envelope(n, "francois", "you", "Facture n° 2024-117 - échéance",
                 mid("latin1-qp"), subject_charset="iso-8859-1")
    text = ("Bonjour Sam,\n\nVeuillez trouver ci-dessous le détail de la "
            "facture n° 2024-117 :\n\n  Réparation du mât      420,00 €\n"
            "  Peinture (coque)      180,00 €\n\nÀ régler avant le 30 avril. "
            "Merci d'avance !\n\nFrançois Dupré\nAtelier Dupré, Saint-Malo\n")
    th, tb = text_part(text.replace("€", "EUR"), charset="iso-8859-1",
                       cte="quoted-printable")
    add("latin1", "plain text, ISO-8859-1, quoted-printable, encoded subject",
        part(h + th, tb))

    n = len(MESSAGES)
    h = envelope(n, "greta", "you", "Grüße aus Köln", mid("latin1-8bit"),
                 subject_charset="iso-8859-1")
    text = ("Hallo Sam,\n\nschöne Grüße aus Köln! Die Straßenbahn fährt "
            "wieder, und der Bäcker an der Ecke hat endlich Öffnungszeiten "
            "am Sonntag.\n\nBis bald,\nGreta\n")
    th, tb = text_part(text, charset="iso-8859-1", cte="8bit")
    add("latin1-8bit", "plain text, ISO-8859-1, raw 8bit body", part(h + th, tb))

    n = len(MESSAGES)
    h = envelope(n, "chidi", "you", "Your order has shipped", mid("ascii"),
                 mime=False)
    add("ascii", "plain ASCII without any MIME headers",
        part(h, b"Tracking number: HX-2231-0457\nExpected delivery: Tuesday.\n"),
        flags="")


def alternatives():
    n = len(MESSAGES)
    h = envelope(n, "news", "you", "Allotment News — April: seedlings & the "
                 "compost rota", mid("news-april"),
                 extra=[("List-Id", "Allotment News <news.allotment.example.org>"),
                        ("List-Unsubscribe", "<mailto:leave@allotment.example.org>")])
    plain = ("ALLOTMENT NEWS — APRIL\n\n* Seedling swap: Saturday 10:00, "
             "by the shed.\n* Compost rota: see the board; plot 14 is on "
             "duty this week.\n* Water is back on at the north tap.\n\n"
             "Happy digging!\n")
    html = ("<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif\">\n"
            "<h1>Allotment News &mdash; April</h1>\n<ul>\n"
            "<li><b>Seedling swap</b>: Saturday 10:00, by the shed.</li>\n"
            "<li><b>Compost rota</b>: see the board; plot 14 is on duty.</li>\n"
            "<li>Water is back on at the <i>north</i> tap.</li>\n</ul>\n"
            "<p>Happy digging! 🌱</p>\n</body></html>\n")
    data = multipart("alternative", "=_alt_news_0417", [
        leaf(plain, charset="utf-8", cte="quoted-printable"),
        leaf(html, charset="utf-8", cte="quoted-printable", subtype="html"),
    ], headers=h)
    add("alternative", "html + plain alternative newsletter (QP, UTF-8)", data,
        flags="")

    n = len(MESSAGES)
    h = envelope(n, "billing", "you", "Your invoice LH-88213 is ready",
                 mid("invoice-html"))
    html = ("<html><body><table border=\"1\"><tr><th>Item</th><th>Amount</th>"
            "</tr>\n<tr><td>VPS small (April)</td><td>4.50</td></tr>\n"
            "<tr><td>Backups</td><td>1.00</td></tr></table>\n"
            "<p>Total: <b>5.50 EUR</b></p></body></html>\n")
    data = multipart("alternative", "b1_invoice", [
        leaf(html, charset="us-ascii", cte="base64", subtype="html"),
    ], headers=h)
    add("html-only", "multipart/alternative holding only an html part (base64)",
        data)


def related():
    n = len(MESSAGES)
    h = envelope(n, "ines", "you", "Photos from the regatta", mid("regatta"))
    html = ("<html><body>\n<p>Olá Sam! Two pictures from Saturday:</p>\n"
            "<p><img src=\"cid:boat1@postern-demo\" alt=\"boat\"> "
            "<img src=\"cid:boat2@postern-demo\" alt=\"finish\"></p>\n"
            "<p>Beijinhos,<br>Inês</p>\n</body></html>\n")
    plain = "Olá Sam! Two pictures from Saturday (see the html part).\n\nInês\n"
    rel = multipart("related", "rel-regatta-2", [
        leaf(html, charset="utf-8", cte="quoted-printable", subtype="html"),
        attachment(photo_png(1), "image/png", plain_name("filename", "boat.png"),
                   disposition="inline",
                   extra=[("Content-ID", "<boat1@postern-demo>")]),
        attachment(photo_png(2), "image/png", plain_name("filename", "finish.png"),
                   disposition="inline",
                   extra=[("Content-ID", "<boat2@postern-demo>")]),
    ], params='; type="text/html"')
    data = multipart("alternative", "alt-regatta-1", [
        leaf(plain, charset="utf-8", cte="8bit"), rel], headers=h)
    add("related", "alternative(plain, related(html + two inline PNGs by cid))",
        data)

    n = len(MESSAGES)
    h = envelope(n, "bruno", "list", "Harbourworks quarterly: crane uptime",
                 mid("quarterly"))
    html = ("<html><body><img src=\"cid:logo@hw\" width=64 height=64>\n"
            "<h2>Crane uptime, Q1</h2>\n<img src=\"cid:chart@hw\">\n"
            "<p>Uptime rose to 97.4% after the March refit.</p>\n"
            "</body></html>\n")
    rel = multipart("related", "rel-q1", [
        leaf(html, charset="us-ascii", subtype="html"),
        attachment(logo_png(), "image/png; name=\"logo.png\"", "",
                   disposition="inline", extra=[("Content-ID", "<logo@hw>")]),
        attachment(chart_png(), "image/png; name=\"chart.png\"", "",
                   disposition="inline", extra=[("Content-ID", "<chart@hw>")]),
    ])
    alt = multipart("alternative", "alt-q1", [
        leaf("Crane uptime, Q1: 97.4% after the March refit.\n"
             "The full report is attached.\n", charset="us-ascii"), rel])
    pdf = tiny_pdf("Crane uptime Q1", ["North quay: 98.1%", "South quay: 96.7%",
                                       "Refit completed 14 March"])
    data = multipart("mixed", "mixed-q1", [
        alt, attachment(pdf, "application/pdf",
                        plain_name("filename", "uptime-q1.pdf"))], headers=h)
    add("full", "mixed(alternative(plain, related(html, 2 PNGs)), PDF): the "
        "shape Thunderbird sends", data)

    n = len(MESSAGES)
    h = envelope(n, "elif", "you", "Menu for Friday", mid("related-start"))
    rel = multipart("related", "rel-start", [
        attachment(logo_png(), "image/png", plain_name("filename", "stamp.png"),
                   disposition="inline", extra=[("Content-ID", "<stamp@menu>")]),
        part([("Content-Type", "text/html; charset=utf-8"),
              ("Content-ID", "<root@menu>")],
             "<html><body><img src=\"cid:stamp@menu\"><p>Menü: "
             "köfte, pilav, ayran.</p></body></html>\n".encode()),
    ], params='; type="text/html"; start="<root@menu>"')
    add("related-start", "multipart/related whose start= root is the second "
        "part", multipart("mixed", "outer-start", [rel], headers=h))


def attachments():
    n = len(MESSAGES)
    h = envelope(n, "greta", "you", "Übersicht und Verträge", mid("rfc2231"))
    pdf = tiny_pdf("Uebersicht 2024", ["Vertrag A", "Vertrag B"])
    data = multipart("mixed", "mix-2231", [
        leaf("Hallo Sam,\n\nanbei die Übersicht und die Verträge.\n\nGreta\n",
             charset="utf-8", cte="quoted-printable"),
        attachment(pdf, "application/pdf", rfc2231("filename", "Übersicht 2024.pdf")),
        attachment(tiny_zip([("Vertrag-A.txt", b"Vertrag A\n"),
                             ("Vertrag-B.txt", b"Vertrag B\n")]),
                   "application/zip",
                   rfc2231("filename", "Verträge (März).zip", lang="de")),
    ], headers=h)
    add("rfc2231", "attachments with RFC 2231 UTF-8 names (PDF and zip)", data)

    n = len(MESSAGES)
    h = envelope(n, "hiro", "you", "見積書を送付します", mid("rfc2231-cont"))
    name = "御見積書_港湾クレーン保守契約_2024年度_最終版.pdf"
    from urllib.parse import quote
    # Split between characters: RFC 2231 does not let a %XX escape (or a
    # multi-byte character) straddle two segments in practice.
    pieces, cur = [], ""
    for ch in name:
        q = quote(ch.encode("utf-8"), safe="")
        if len(cur) + len(q) > 60:
            pieces.append(cur)
            cur = ""
        cur += q
    pieces.append(cur)
    cont = "".join(";\n\tfilename*%d*=%s%s" % (i, "UTF-8''" if i == 0 else "", p)
                   for i, p in enumerate(pieces))
    data = multipart("mixed", "mix-cont", [
        leaf("佐藤です。見積書を添付します。\n", charset="utf-8", cte="base64"),
        attachment(tiny_pdf("Mitsumori", ["Crane maintenance 2024"]),
                   "application/pdf", cont),
    ], headers=h)
    add("rfc2231-cont", "a long Japanese filename in RFC 2231 continuations "
        "(filename*0*, filename*1*, ...)", data)

    n = len(MESSAGES)
    h = envelope(n, "dora", "you", "Árajánlat", mid("outlook-names"),
                 extra=[("X-Mailer", "Microsoft Outlook 16.0")])
    xls_name = Header("Árajánlat 2024 – végleges.xlsx", "utf-8").encode()
    doc_name = Header("Jegyzőkönyv.docx", "iso-8859-2").encode()
    xlsx = tiny_zip([("[Content_Types].xml", b"<Types/>"),
                     ("xl/workbook.xml", b"<workbook/>")])
    docx = tiny_zip([("[Content_Types].xml", b"<Types/>"),
                     ("word/document.xml", b"<document/>")])
    data = multipart("mixed", "_004_outlook_names_", [
        leaf("Szia Sam,\n\ncsatolom az árajánlatot.\n\nÜdv,\nDóra\n",
             charset="iso-8859-2", cte="quoted-printable"),
        attachment(xlsx, 'application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet; name="%s"' % xls_name,
                   '; filename="%s"' % xls_name),
        attachment(docx, 'application/vnd.openxmlformats-officedocument.'
                   'wordprocessingml.document; name="%s"' % doc_name,
                   '; filename="%s"' % doc_name),
    ], headers=h)
    add("outlook-names", "Outlook style: RFC 2047 encoded words inside quoted "
        "filename= and name=", data)

    n = len(MESSAGES)
    h = envelope(n, "chidi", "you", "CSV export and notes", mid("csv"))
    csv = ("date,quay,lifts,downtime_min\r\n" + "".join(
        "2024-03-%02d,%s,%d,%d\r\n" % (d, rng.choice("NS"), rng.randrange(40, 90),
                                       rng.randrange(0, 45))
        for d in range(1, 29))).encode()
    data = multipart("mixed", "mix-csv", [
        leaf("Export attached; CRLF line endings inside, as Excel likes them.\n",
             charset="us-ascii"),
        part([("Content-Type", "text/csv; charset=us-ascii; name=lifts.csv"),
              ("Content-Disposition", "attachment; filename=lifts.csv")], csv),
        part([("Content-Type", "text/markdown; charset=utf-8"),
              ("Content-Disposition", 'attachment; filename="notes.md"'),
              ("Content-Transfer-Encoding", "quoted-printable")],
             qp("# Notes\n\n- South quay crane: bearing noise → check Tuesday\n"
                .encode())),
    ], headers=h)
    add("text-attachments", "text attachments: CSV with CRLF inside, markdown "
        "in quoted-printable", data)

    n = len(MESSAGES)
    h = envelope(n, "bruno", "list", "Re: Release 0.4 checklist",
                 mid("release-3"), reply_to_ids=[mid("release-1"), mid("release-2")])
    r = random.Random(7)
    blob = bytes(r.randrange(256) for _ in range(48 * 1024))
    data = multipart("mixed", "mix-release", [
        leaf("Firmware image and the signed checksum list attached.\n",
             charset="us-ascii"),
        attachment(blob, "application/octet-stream",
                   plain_name("filename", "crane-fw-0.4.bin")),
        part([("Content-Type", "text/plain; charset=us-ascii"),
              ("Content-Disposition", "attachment; filename=SHA256SUMS")],
             ("%s  crane-fw-0.4.bin\n" % __import__("hashlib").sha256(blob)
              .hexdigest()).encode()),
    ], headers=h)
    add("binary-attachment", "a 48 KB binary attachment and a checksum file",
        data)


def release_thread():
    n = len(MESSAGES)
    h = envelope(n, "ada", "list", "Release 0.4 checklist", mid("release-1"))
    th, tb = text_part("Checklist for 0.4:\n\n[ ] changelog\n[ ] tag\n"
                       "[ ] firmware image\n[ ] announce\n", charset="us-ascii")
    add("release-1", "thread: release checklist, first message",
        part(h + th, tb))
    n = len(MESSAGES)
    h = envelope(n, "chidi", "list", "Re: Release 0.4 checklist",
                 mid("release-2"), reply_to_ids=[mid("release-1")])
    plain = "Changelog done. Draft below.\n\n> Checklist for 0.4:\n"
    html = ("<div>Changelog done. Draft below.</div><blockquote>Checklist for "
            "0.4:</blockquote>\n")
    add("release-2", "thread: release checklist, html reply",
        multipart("alternative", "alt-rel2", [
            leaf(plain, charset="us-ascii"),
            leaf(html, charset="us-ascii", subtype="html")], headers=h))


def forwards():
    inner_h = envelope(3, "francois", "ada", "Devis voilerie", mid("inner-devis"))
    inner = multipart("mixed", "inner-devis-b", [
        leaf("Bonjour,\n\nVoici le devis pour la voile d'avant.\n",
             charset="iso-8859-1", cte="quoted-printable"),
        attachment(tiny_pdf("Devis", ["Voile d'avant: 1 200 EUR"]),
                   "application/pdf", plain_name("filename", "devis.pdf")),
    ], headers=inner_h)
    n = len(MESSAGES)
    h = envelope(n, "ada", "you", "Fwd: Devis voilerie", mid("fwd-multi"))
    data = multipart("mixed", "fwd-outer", [
        leaf("Sam, see the quote below. Worth it?\n\nAda\n", charset="us-ascii"),
        part([("Content-Type", "message/rfc822"),
              ("Content-Disposition", "inline")], inner),
    ], headers=h)
    add("forward", "a forwarded message (message/rfc822) holding its own "
        "multipart with a PDF", data)

    inner_h = envelope(4, "greta", "bruno", "Schlüssel", mid("inner-key"))
    inner = part(inner_h + text_part("Der Schlüssel liegt im Briefkasten.\n",
                                     charset="utf-8")[0],
                 qp("Der Schlüssel liegt im Briefkasten.\n".encode()))
    mid_h = envelope(5, "bruno", "ada", "Fwd: Schlüssel", mid("mid-key"))
    middle = multipart("mixed", "fwd-mid", [
        leaf("FYI\n", charset="us-ascii"),
        part([("Content-Type", "message/rfc822")], inner)], headers=mid_h)
    n = len(MESSAGES)
    h = envelope(n, "ada", "you", "Fwd: Fwd: Schlüssel", mid("fwd-fwd"))
    data = multipart("mixed", "fwd-top", [
        leaf("Forwarding the forward, sorry.\n", charset="us-ascii"),
        part([("Content-Type", "message/rfc822"),
              ("Content-Disposition",
               "attachment" + rfc2231("filename", "Fwd Schlüssel.eml"))],
             middle),
    ], headers=h)
    add("forward-nested", "a forward of a forward: nested message/rfc822, the "
        "innermost one non-multipart (section 2.2.1)", data)


def digest():
    msgs = []
    for i, (who, subj, text) in enumerate([
            ("chidi", "Parser fuzzing results",
             "Ran the fuzzer overnight: no crashes, two slow inputs.\n"),
            ("elif", "Re: Parser fuzzing results",
             "Slow inputs are both deep nesting; the depth limit caught them.\n"),
            ("bruno", "Build on Debian 12",
             "make deps && make check passes on a fresh container.\n")]):
        h = [("From", addr(who)), ("Subject", subj),
             ("Date", format_datetime(date(20 + i))),
             ("Message-ID", "<%s>" % mid("digest-%d" % i))]
        msgs.append(NL + part(h, text.encode()))   # digest parts: no headers
    n = len(MESSAGES)
    h = envelope(n, "list", "you", "Harbourworks Dev Digest, Vol 3, Issue 12",
                 mid("digest"), extra=[("List-Id", "<dev.lists.harbourworks"
                                        ".example.com>")])
    toc = leaf("Today's topics:\n\n  1. Parser fuzzing results\n  2. Re: Parser"
               " fuzzing results\n  3. Build on Debian 12\n", charset="us-ascii")
    dig = multipart("digest", "digest-inner", msgs)
    data = multipart("mixed", "digest-outer", [toc, dig], headers=h)
    add("digest", "a mailing-list digest: multipart/digest whose parts default "
        "to message/rfc822", data)


def signed():
    n = len(MESSAGES)
    h = envelope(n, "ada", "list", "[ANNOUNCE] postern-demo 0.4 tagged",
                 mid("signed"))
    body = leaf("Tag v0.4 is signed with key 0x5EED0DEMO (not a real key).\n",
                charset="us-ascii")
    sig = ("-----BEGIN PGP SIGNATURE-----\n\n" + "\n".join(
        base64.b64encode(random.Random(11).randbytes(48)).decode()
        for _ in range(5)) + "\n=dEm0\n-----END PGP SIGNATURE-----\n").encode()
    data = multipart("signed", "signed-outer", [
        body,
        part([("Content-Type", 'application/pgp-signature; name="signature.asc"'),
              ("Content-Description", "OpenPGP digital signature"),
              ("Content-Disposition", 'attachment; filename="signature.asc"')],
             sig)], headers=h,
        params='; micalg=pgp-sha256; protocol="application/pgp-signature"')
    add("signed", "multipart/signed with a (fake) OpenPGP signature", data)


def calendar():
    n = len(MESSAGES)
    h = envelope(n, "cal", "you", "Invitation: Crane refit review @ Tue 16 Apr "
                 "10:00", mid("invite"))
    ics = ("BEGIN:VCALENDAR\r\nPRODID:-//postern demo//EN\r\nVERSION:2.0\r\n"
           "METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:refit-review@harbourworks."
           "example.com\r\nDTSTAMP:20240402T081700Z\r\nDTSTART:20240416T080000Z"
           "\r\nDTEND:20240416T090000Z\r\nSUMMARY:Crane refit review\r\n"
           "LOCATION:Harbour office\\, room 2\r\nORGANIZER;CN=Ada Lindqvist:"
           "mailto:ada@lindqvist.example.org\r\nATTENDEE;RSVP=TRUE;CN=Sam Demo:"
           "mailto:sam@postern.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    alt = multipart("alternative", "cal-alt", [
        leaf("Crane refit review\nTue 16 Apr 10:00-11:00, Harbour office, "
             "room 2\nOrganizer: Ada Lindqvist\n", charset="utf-8"),
        part([("Content-Type", 'text/calendar; charset="utf-8"; method=REQUEST'),
              ("Content-Transfer-Encoding", "7bit")], ics.encode())])
    data = multipart("mixed", "cal-mixed", [
        alt, attachment(ics.encode(), 'application/ics; name="invite.ics"',
                        plain_name("filename", "invite.ics"))], headers=h)
    add("calendar", "a calendar invitation: text/calendar method=REQUEST plus "
        "invite.ics", data, flags="")


def bounce():
    orig_h = envelope(30, "you", "nobody@harbourworks.example.com",
                      "Crane rota", mid("bounced"))
    n = len(MESSAGES)
    h = [("From", addr("daemon")), ("To", addr("you")),
         ("Subject", "Undelivered Mail Returned to Sender"),
         ("Date", format_datetime(date(n))),
         ("Message-ID", "<%s>" % mid("dsn")),
         ("Auto-Submitted", "auto-replied"), ("MIME-Version", "1.0")]
    dsn = (b"Reporting-MTA: dns; mx1.harbourworks.example.com\n"
           b"Arrival-Date: Tue, 2 Apr 2024 14:02:11 +0200\n\n"
           b"Final-Recipient: rfc822; nobody@harbourworks.example.com\n"
           b"Action: failed\nStatus: 5.1.1\n"
           b"Diagnostic-Code: smtp; 550 5.1.1 <nobody@harbourworks.example.com>: "
           b"Recipient address rejected: User unknown\n")
    data = multipart("report", "dsn-b", [
        leaf("This is the mail system at host mx1.harbourworks.example.com.\n\n"
             "I'm sorry to have to inform you that your message could not\n"
             "be delivered to one or more recipients.\n\n"
             "<nobody@harbourworks.example.com>: host mx1 said: 550 5.1.1 "
             "User unknown\n", charset="us-ascii",
             extra=[("Content-Description", "Notification")]),
        part([("Content-Description", "Delivery report"),
              ("Content-Type", "message/delivery-status")], dsn),
        part([("Content-Description", "Undelivered Message Headers"),
              ("Content-Type", "text/rfc822-headers")],
             NL.join(fold(a, b) for a, b in orig_h) + NL),
    ], headers=h, params="; report-type=delivery-status")
    add("bounce", "a delivery-status report (multipart/report with "
        "message/delivery-status, a leaf)", data)


def uu_encode(data, name):
    """uuencode without the deprecated uu module."""
    out = [("begin 644 %s\n" % name).encode()]
    for i in range(0, len(data), 45):
        out.append(binascii.b2a_uu(data[i:i + 45]))
    out.append(b"`\nend\n")
    return b"".join(out)


def uuencoded():
    n = len(MESSAGES)
    h = envelope(n, "bruno", "you", "old-school attachment", mid("uuencode"))
    data = multipart("mixed", "mix-uu", [
        leaf("Sent from the 1998 mail gateway, sorry.\n", charset="us-ascii"),
        part([("Content-Type", 'application/octet-stream; name="tide.txt"'),
              ("Content-Transfer-Encoding", "x-uuencode"),
              ("Content-Disposition", 'attachment; filename="tide.txt"')],
             uu_encode(b"High tide 06:41, 19:02\nLow tide 00:35, 12:58\n",
                              "tide.txt")),
    ], headers=h)
    add("uuencode", "an x-uuencode attachment", data)


def odd_but_valid():
    n = len(MESSAGES)
    h = envelope(n, "elif", "you", "preamble and epilogue", mid("preamble"))
    data = multipart("mixed", "pre-epi", [
        leaf("The real body.\n", charset="us-ascii"),
        part([("Content-Type", "text/plain")], b""),
    ], headers=h, preamble=b"This is a multi-part message in MIME format.\n"
        b"If you see this, your mail reader is very old.\n",
        epilogue=b"\nEpilogue text that readers ignore.\n")
    add("preamble", "multipart with preamble, epilogue and an empty second "
        "part", data)

    n = len(MESSAGES)
    h = envelope(n, "ada", "you", "CRLF everywhere", mid("crlf"))
    data = multipart("mixed", "crlf-b", [
        leaf("This message uses CRLF line endings throughout,\nas it would "
             "arrive over IMAP.\n", charset="us-ascii"),
        attachment(logo_png(), "image/png", plain_name("filename", "logo.png")),
    ], headers=h)
    add("crlf", "a message with CRLF line endings", data.replace(b"\n", b"\r\n"))

    n = len(MESSAGES)
    words = ("=?utf-8?q?Caf=C3=A9?= =?iso-8859-1?q?_cr=E8me?= and "
             "=?utf-8?b?8J+NsA==?= =?utf-8?q?_tonight=3F?=")
    h = [("From", "=?utf-8?q?Fran=C3=A7ois_Dupr=C3=A9?= "
                  "<fdupre@atelier-dupre.example.fr>"),
         ("To", "crew: %s, %s;, %s" % (addr("you"), addr("ines"), addr("greta"))),
         ("Subject", words), ("Date", format_datetime(date(n))),
         ("Message-ID", "<%s>" % mid("encoded-words")), ("MIME-Version", "1.0")]
    th, tb = text_part("Crème brûlée at the café, 20:00?\n", charset="utf-8")
    add("encoded-words", "adjacent RFC 2047 words in two charsets, an address "
        "group in To:", part(h + th, tb))

    n = len(MESSAGES)
    h = envelope(n, "greta", "you", "Protokoll (message/global)", mid("global"))
    inner = part([("From", "Jürgen Weiß <juergen@example.de>"),
                  ("Subject", "Straßenfest — Protokoll"),
                  ("Date", format_datetime(date(2))),
                  ("Content-Type", "text/plain; charset=utf-8"),
                  ("Content-Transfer-Encoding", "8bit")],
                 "Protokoll: Stände bis Freitag anmelden.\n".encode())
    data = multipart("mixed", "glob-b", [
        leaf("Weitergeleitet als message/global (RFC 6532).\n", charset="utf-8"),
        part([("Content-Type", "message/global")], inner)], headers=h)
    add("message-global", "message/global: a nested message with raw UTF-8 "
        "headers", data)


def malformed():
    n = len(MESSAGES)
    h = envelope(n, "chidi", "you", "truncated: no closing boundary",
                 mid("no-close"))
    data = multipart("mixed", "never-closed", [
        leaf("The sender's connection dropped before the end.\n",
             charset="us-ascii"),
        attachment(chart_png(), "image/png", plain_name("filename", "chart.png")),
    ], headers=h, close=False)
    add("no-close-boundary", "malformed: the closing boundary is missing",
        data, flags="")

    n = len(MESSAGES)
    h = envelope(n, "bruno", "you", "bad base64 inside", mid("bad-b64"))
    good = b64(b"Readable text, then junk.\n" * 4).rstrip(b"\n")
    bad = good[:40] + b"!!*?" + good[40:120] + b"\n%%%% not base64 %%%%\n" \
        + good[120:-3] + b"\n"
    data = multipart("mixed", "bad-b64-b", [
        leaf("The attachment's base64 has junk characters and is "
             "truncated.\n", charset="us-ascii"),
        part([("Content-Type", "text/plain; charset=us-ascii"),
              ("Content-Disposition", "attachment; filename=broken.txt"),
              ("Content-Transfer-Encoding", "base64")], bad),
    ], headers=h)
    add("bad-base64", "malformed: base64 with junk characters and a truncated "
        "end", data)

    n = len(MESSAGES)
    h = envelope(n, "dora", "you", "lying charset", mid("lying-charset"))
    body = "Árvíztűrő tükörfúrógép — this is UTF-8 labelled us-ascii.\n"
    add("lying-charset", "malformed: UTF-8 bytes labelled charset=us-ascii",
        part(h + [("Content-Type", "text/plain; charset=us-ascii"),
                  ("Content-Transfer-Encoding", "8bit")], body.encode()))

    n = len(MESSAGES)
    h = envelope(n, "greta", "you", "unknown charset", mid("unknown-charset"))
    add("unknown-charset", "malformed: charset=x-mac-klingon (unknown), "
        "Latin-1 bytes", part(h + [
            ("Content-Type", "text/plain; charset=x-mac-klingon"),
            ("Content-Transfer-Encoding", "8bit")],
            "Grüße, trotz unbekanntem Zeichensatz.\n".encode("latin-1")))

    n = len(MESSAGES)
    h = [("From", addr("ines")), ("To", addr("you")),
         ("Subject", "no content-type at all"),
         ("Date", format_datetime(date(n))),
         ("Message-ID", "<%s>" % mid("no-ctype")), ("MIME-Version", "1.0")]
    add("no-content-type", "malformed-ish: MIME-Version but no Content-Type "
        "(defaults to text/plain; us-ascii)",
        part(h, b"Defaults apply: text/plain, us-ascii, 7bit.\n"))

    n = len(MESSAGES)
    h = [(b"From", "Jürgen Weiß <juergen@example.de>".encode("utf-8")),
         (b"To", addr("you").encode()),
         (b"Subject", "Grüße — raw 8-bit header, no encoded words".encode()),
         (b"Date", format_datetime(date(n)).encode()),
         (b"Message-ID", ("<%s>" % mid("8bit-headers")).encode()),
         (b"MIME-Version", b"1.0"),
         (b"Content-Type", b"text/plain; charset=utf-8"),
         (b"Content-Transfer-Encoding", b"8bit")]
    raw = NL.join(a + b": " + b for a, b in h) + NL + NL + \
        "Headers carry raw UTF-8 (RFC 6532 style, or just broken).\n".encode()
    add("8bit-headers", "malformed: raw 8-bit UTF-8 in From and Subject", raw)

    n = len(MESSAGES)
    h = envelope(n, "chidi", "you", "CTE with trailing space", mid("cte-space"))
    data = multipart("mixed", "cte-space-b", [
        leaf("The attachment says 'Content-Transfer-Encoding: base64 ' with a "
             "trailing space.\n", charset="us-ascii"),
        part([("Content-Type", "text/plain; charset=utf-8"),
              ("Content-Disposition", "attachment; filename=notes.txt"),
              ("Content-Transfer-Encoding", "base64 ")],
             b64("Decoded fine despite the space. ✓\n".encode())),
    ], headers=h)
    add("cte-trailing-space", "malformed: 'Content-Transfer-Encoding: base64 ' "
        "(trailing space)", data)

    n = len(MESSAGES)
    h = envelope(n, "elif", "you", "multipart without boundary", mid("no-boundary"))
    add("no-boundary", "malformed: multipart/mixed with no boundary parameter",
        part(h + [("Content-Type", "multipart/mixed")],
             b"--xyz\nContent-Type: text/plain\n\nnobody can find me\n--xyz--\n"))

    n = len(MESSAGES)
    h = envelope(n, "bruno", "you", "bad qp", mid("bad-qp"))
    add("bad-qp", "malformed: quoted-printable with broken escapes",
        part(h + [("Content-Type", "text/plain; charset=iso-8859-1"),
                  ("Content-Transfer-Encoding", "quoted-printable")],
             b"Caf=E9 =ZZ and =4 then a soft break=\nhere, a lone = sign.\n"))


def filler():
    """Shorter everyday mail to make a mailbox of about fifty."""
    topics = [
        ("greta", "Allotment rota: week 15", "Plot 14 has the compost this week."),
        ("ines", "Sailing on Sunday?", "Wind looks good from 11:00. Coming?"),
        ("hiro", "Re: parser benchmark", "GMime numbers attached tomorrow."),
        ("dora", "Kávészünet", "Kávé 15:00-kor a konyhában?"),
        ("francois", "Horaires d'été", "L'atelier ferme à 18h à partir de juin."),
        ("elif", "Toplantı notları", "Notlar ekte değil, aşağıda: her şey yolunda."),
        ("bruno", "Lunch", "Bakery at 12:30?"),
        ("chidi", "Re: Lunch", "Make it 12:45."),
        ("ada", "Key handover", "Spare key is with the harbour master."),
        ("greta", "Seed order", "Tomatoes: 3 varieties, beans: 2."),
        ("ines", "Re: Sailing on Sunday?", "Count me in; I'll bring lunch."),
        ("news", "Allotment News — reminder", "AGM on the 20th, 19:00."),
        ("bruno", "Parking permit", "Renewed until March next year."),
        ("hiro", "来週の予定", "来週は水曜日から出張です。"),
    ]
    for i, (who, subj, text) in enumerate(topics):
        n = len(MESSAGES)
        tag = "filler-%d" % i
        h = envelope(n, who, "you", subj, mid(tag))
        body = text + "\n\n" + lorem(30 + 10 * i, i)
        charset = "us-ascii" if body.isascii() else "utf-8"
        if i % 3 == 2:
            data = multipart("alternative", "alt-%s" % tag, [
                leaf(body, charset=charset),
                leaf("<p>" + body.replace("\n\n", "</p><p>") + "</p>\n",
                     charset=charset, subtype="html")], headers=h)
        else:
            data = part(h + text_part(body, charset=charset)[0],
                        text_part(body, charset=charset)[1])
        add(tag, "everyday mail: %s" % ("alternative" if i % 3 == 2 else
                                         "plain " + charset), data,
            flags=rng.choice(["S", "S", "RS", "FS", ""]),
            folder="new" if i >= len(topics) - 3 else "cur")


def build():
    thread_offsite()
    plain_variants()
    alternatives()
    related()
    release_thread()
    attachments()
    forwards()
    digest()
    signed()
    calendar()
    bounce()
    uuencoded()
    odd_but_valid()
    malformed()
    filler()


def write(outdir):
    for sub in ("cur", "new", "tmp"):
        d = os.path.join(outdir, sub)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f != ".keep":
                os.unlink(os.path.join(d, f))
    open(os.path.join(outdir, "tmp", ".keep"), "wb").close()
    index = ["# key\tpath\tdescription  (written by tools/gen-demo.py)"]
    seen = set()
    for i, (key, folder, flags, desc, data) in enumerate(MESSAGES):
        assert key not in seen, key
        seen.add(key)
        stamp = int(date(i).timestamp())
        # Maildir++: time.M<usec>P<pid>.host,S=<size>[:2,flags]; new/ has
        # no info part.
        name = "%d.M%06dP%d.postern-demo,S=%d" % (stamp, i * 1000, 4242 + i,
                                                   len(data))
        if folder == "cur":
            name += ":2," + "".join(sorted(flags))
        path = os.path.join(outdir, folder, name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (stamp, stamp))
        index.append("%s\t%s/%s\t%s" % (key, folder, name, desc))
    with open(os.path.join(outdir, "index.txt"), "w") as f:
        f.write("\n".join(index) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "..", "share", "demo")
    build()
    write(outdir)
    print("gen-demo: wrote %d messages to %s" % (len(MESSAGES),
                                                 os.path.normpath(outdir)))


if __name__ == "__main__":
    main()
