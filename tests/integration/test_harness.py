#!/usr/bin/env python3
"""test_harness.py - the Dovecot test harness itself works (TAP).

Starts tests/integration/dovecot.py in a temp dir, logs in with imaplib
over STARTTLS and implicit TLS (verifying against the harness's CA), with
each SASL mechanism offered, checks the PREAUTH tunnel and that the
failure-test certificates fail as intended (served by second instances), stops Dovecot and checks its
master process is gone.
"""

import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dovecot  # noqa: E402

TIMEOUT = 15
n = 0
failed = 0


def ok(cond, name, diag=None):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        if diag:
            for line in str(diag).splitlines():
                print("# " + line)
    sys.stdout.flush()


def attempt(name, fn):
    try:
        r = fn()
    except Exception as e:  # a test that raises fails with the reason
        ok(False, name, "%s: %s" % (type(e).__name__, e))
        return None
    ok(r is not False, name)
    return r


def ctx_for(info):
    c = ssl.create_default_context(cafile=info["ca"])
    c.minimum_version = ssl.TLSVersion.TLSv1_2
    return c


def login_starttls(info):
    m = imaplib.IMAP4(info["host"], info["imap_port"], timeout=TIMEOUT)
    if "STARTTLS" not in m.capabilities:
        raise AssertionError("no STARTTLS in %r" % (m.capabilities,))
    m.starttls(ssl_context=ctx_for(info))
    typ, _ = m.login("alice", info["users"]["alice"])
    m.select("INBOX")
    m.logout()
    return typ == "OK"


def login_imaps(info, user="bob"):
    m = imaplib.IMAP4_SSL(info["host"], info["imaps_port"],
                          ssl_context=ctx_for(info), timeout=TIMEOUT)
    typ, _ = m.login(user, info["users"][user])
    typ2, data = m.list()
    m.logout()
    names = b" ".join(data)
    return typ == "OK" and typ2 == "OK" and b"Sent" in names


def auth_mech(info, mech):
    m = imaplib.IMAP4(info["host"], info["imap_port"], timeout=TIMEOUT)
    m.starttls(ssl_context=ctx_for(info))
    pw = info["users"]["alice"]
    if mech == "CRAM-MD5":
        typ, _ = m.login_cram_md5("alice", pw)
    elif mech == "PLAIN":
        typ, _ = m.authenticate(
            "PLAIN", lambda _c: ("\0alice\0" + pw).encode())
    else:
        steps = iter([b"alice", pw.encode()])
        typ, _ = m.authenticate("LOGIN", lambda _c: next(steps))
    m.logout()
    return typ == "OK"


EXTENSIONS = ("IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "CONDSTORE",
              "QRESYNC", "ESEARCH", "SORT", "THREAD=REFERENCES",
              "LIST-STATUS", "SPECIAL-USE", "BINARY", "CATENATE",
              "MULTIAPPEND", "LITERAL+", "UNSELECT", "ENABLE", "ID",
              "COMPRESS=DEFLATE", "QUOTA", "ACL", "METADATA", "SASL-IR")


def extensions(info):
    m = imaplib.IMAP4_SSL(info["host"], info["imaps_port"],
                          ssl_context=ctx_for(info), timeout=TIMEOUT)
    m.login("alice", info["users"]["alice"])
    typ, data = m.capability()
    caps = set(data[0].decode().upper().split())
    m.logout()
    missing = [e for e in EXTENSIONS if e not in caps]
    if missing:
        raise AssertionError("missing after login: %s" % " ".join(missing))
    return True


def metadata_quota_acl(info):
    """The plugins behind QUOTA, ACL and METADATA really work."""
    for c in ("SETMETADATA", "GETMETADATA"):
        imaplib.Commands.setdefault(c, ("AUTH", "SELECTED"))
    m = imaplib.IMAP4_SSL(info["host"], info["imaps_port"],
                          ssl_context=ctx_for(info), timeout=TIMEOUT)
    m.login("alice", info["users"]["alice"])
    typ, _ = m._simple_command("SETMETADATA", "INBOX",
                               '(/private/comment "harness")')
    if typ != "OK":
        raise AssertionError("SETMETADATA: %s" % typ)
    typ, data = m._simple_command("GETMETADATA", "INBOX",
                                  "/private/comment")
    _t, md = m._untagged_response(typ, data, "METADATA")
    if b"harness" not in b" ".join(x if isinstance(x, bytes) else x[1]
                                  for x in md if x):
        raise AssertionError("GETMETADATA gave %r" % (md,))
    typ, q = m.getquotaroot("INBOX")
    if typ != "OK" or not any(b"STORAGE" in x for x in q[1] if x):
        raise AssertionError("GETQUOTAROOT: %r" % (q,))
    typ, r = m.myrights("INBOX")
    if typ != "OK":
        raise AssertionError("MYRIGHTS: %r" % (r,))
    m.logout()
    return True


def bad_password_refused(info):
    m = imaplib.IMAP4(info["host"], info["imap_port"], timeout=TIMEOUT)
    try:
        m.login("alice", "wrong")
    except imaplib.IMAP4.error:
        return True
    finally:
        try:
            m.shutdown()
        except OSError:
            pass
    return False


def preauth(info):
    p = subprocess.run(info["preauth_argv"], input=b"a1 CAPABILITY\r\n"
                       b"a2 SELECT INBOX\r\na3 LOGOUT\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT)
    out = p.stdout
    if not out.startswith(b"* PREAUTH"):
        raise AssertionError("greeting %r stderr %r" % (out[:100],
                                                        p.stderr[-200:]))
    return b"a2 OK" in out and b"a3 OK" in out


def imaplib_stream(info):
    m = imaplib.IMAP4_stream(info["preauth_cmd"])
    typ, _ = m.select("INBOX")
    m.logout()
    return m.state == "LOGOUT" and typ == "OK"


def bad_cert_instance(info, d, serve):
    """start(serve=...) with the first instance's CA: verification fails
    for 127.0.0.1 with the reason expected."""
    d2 = os.path.join(d, "serve-" + serve)
    info2 = dovecot.start(d2, serve=serve, tls_dir=os.path.join(d, "tls"))
    try:
        with socket.create_connection((info2["host"], info2["imaps_port"]),
                                      TIMEOUT) as s:
            with ctx_for(info).wrap_socket(s, server_hostname="127.0.0.1"):
                return False
    except ssl.SSLCertVerificationError as e:
        want = "mismatch" if serve == "wrong-host" else "self-signed"
        if want not in str(e):
            raise AssertionError("unexpected reason: %s" % e)
        return info2["serves"] == serve
    finally:
        dovecot.stop(d2)


def main():
    d = tempfile.mkdtemp(prefix="postern-harness-")
    print("1..14")
    try:
        try:
            info = dovecot.start(d)
        except Exception as e:
            ok(False, "dovecot starts", e)
            return
        ok(os.path.exists(os.path.join(d, "info.json")) and
           dovecot.port_open(info["imap_port"]) and
           dovecot.port_open(info["imaps_port"]),
           "dovecot starts and listens on imap %d, imaps %d" % (
               info["imap_port"], info["imaps_port"]))
        attempt("LOGIN over STARTTLS verified by the CA",
                lambda: login_starttls(info))
        attempt("LOGIN over imaps verified by the CA, special-use folders",
                lambda: login_imaps(info))
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            attempt("AUTHENTICATE %s" % mech, lambda: auth_mech(info, mech))
        attempt("extensions offered: " + " ".join(EXTENSIONS),
                lambda: extensions(info))
        attempt("METADATA, QUOTA and ACL answer",
                lambda: metadata_quota_acl(info))
        attempt("a wrong password is refused",
                lambda: bad_password_refused(info))
        attempt("PREAUTH tunnel: %s" % info["preauth_cmd"],
                lambda: preauth(info))
        attempt("imaplib.IMAP4_stream over the tunnel",
                lambda: imaplib_stream(info))
        for serve in ("wrong-host", "self-signed"):
            attempt("a second Dovecot with --serve %s is refused by the CA"
                    % serve, lambda: bad_cert_instance(info, d, serve))
        pid = info["pid"]
        stopped = dovecot.stop(d)
        ok(stopped and not dovecot._alive(pid) and
           not dovecot.port_open(info["imap_port"]),
           "stop: master pid %d gone, port closed" % pid)
    finally:
        dovecot.stop(d)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.exit(1 if failed or n == 0 else 0)
