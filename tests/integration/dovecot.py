#!/usr/bin/env python3
"""dovecot.py - a throwaway Dovecot on 127.0.0.1 for tests and benchmarks.

Everything lives in one directory: config, passwd-file, Maildirs, a
throwaway CA and certificates, logs, Dovecot's base_dir and state_dir.
Nothing system-wide is read or written (Dovecot is started with -c, so
/etc/dovecot is never consulted) and only free ports above 1024 are used.

CLI:
    dovecot.py start DIR [--serve wrong-host|self-signed] [--tls-dir T]
                              create DIR, start Dovecot, print the info JSON
                              (also saved as DIR/info.json); --serve makes
                              it present a bad certificate, --tls-dir
                              reuses another instance's CA and certs
    dovecot.py stop DIR       TERM the recorded master PID, KILL after 5 s
    dovecot.py run [--dir DIR] -- CMD...
                              start, run CMD with POSTERN_TEST_DOVECOT set
                              to DIR/info.json, stop; exits with CMD's code
    dovecot.py info DIR       print DIR/info.json

Importable: start(dir) -> dict, stop(dir), and Harness (a context manager).

The info JSON:
    host, imap_port (STARTTLS offered), imaps_port, users {alice, bob},
    ca (PEM of the CA that signed the server cert, for --cafile),
    server_cert/server_key, wrong_host_cert/wrong_host_key (signed by the
    CA, for the name "wrong.invalid"), self_signed_cert/self_signed_key
    (for 127.0.0.1 and localhost, signed by nobody), mail_root (Maildirs
    are mail_root/USER, Maildir++), mail_uid/mail_gid (who owns them),
    config, log, dir, pid, preauth_cmd (a shell command speaking IMAP on
    stdin/stdout, greeting with PREAUTH as alice; preauth_argv is the same
    as a list, preauth_user names the user, preauth_greeting is the line
    it gave when start() checked it).
The wrong-host and self-signed certificates are presented by a second
instance started with --serve (serves in the JSON says which), with
--tls-dir FIRST/tls so that the CA is the same; hostile_server.py's
wrong-host-cert and self-signed-cert scenarios present them too.
Extensions: Dovecot's defaults (IDLE, CONDSTORE, QRESYNC, MOVE, ESEARCH,
SORT, THREAD, LIST-STATUS, SPECIAL-USE, BINARY, CATENATE, NOTIFY ...)
plus QUOTA (1 GB), ACL (vfile), METADATA (file dict under the home) and
COMPRESS=DEFLATE; special-use Drafts, Sent, Trash, Junk, Archive.

Dovecot and root (what CI runs as), found by trying:
  - the login processes run as dovenull in a chroot, auth and the other
    internal services as dovecot (both users come with the Debian
    package); so the passwd-file is given to dovecot (mode 0600) and DIR
    and its parents must be searchable by others: DIR gets 0755, a
    mkdtemp() parent in $TMPDIR gets o+x, anything else is an error;
  - mail is never accessed as root ("Mail access not allowed for root",
    whatever first_valid_uid says) and passwd-file rejects uid 0, so the
    users' uid/gid fields are empty and mail_uid/mail_gid = nobody/nogroup;
    mail_root belongs to nobody (info: mail_uid, mail_gid).  Files put into
    a Maildir by hand as root must be given to it: fix_mail_owner(info);
  - the PREAUTH tunnel (imap -u alice) is run as root and drops to nobody
    itself; it asks the running instance's auth for the user, so it works
    only while Dovecot runs.
As any other user everything runs as that user, without chroots.
The standalone imap of the tunnel logs to its stderr, not to the log.
"""

import json
import os
import pwd
import grp
import signal
import socket
import subprocess
import sys
import time
import zlib

HOST = "127.0.0.1"
USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
DOVECOT = os.environ.get("POSTERN_DOVECOT_BIN", "/usr/sbin/dovecot")
IMAP_BIN = os.environ.get("POSTERN_DOVECOT_IMAP", "/usr/lib/dovecot/imap")
START_TIMEOUT = 20.0
STOP_GRACE = 5.0


class HarnessError(Exception):
    pass


def _run(argv, timeout=60, **kw):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, **kw)
    except FileNotFoundError:
        raise HarnessError("%s: not installed (sh tools/deps.sh)" % argv[0])
    except subprocess.TimeoutExpired:
        raise HarnessError("%s: timed out after %d s" % (argv[0], timeout))
    if p.returncode != 0:
        raise HarnessError("%s failed (%d): %s" % (
            " ".join(argv[:3]), p.returncode,
            p.stderr.decode(errors="replace").strip()[-500:]))
    return p


# ---- certificates -------------------------------------------------------

def _openssl_cert(tls, name, cn, sans, ca):
    """Key and certificate tls/NAME.{key,crt}; signed by tls/ca if ca,
    self-signed otherwise."""
    key = os.path.join(tls, name + ".key")
    crt = os.path.join(tls, name + ".crt")
    ext = os.path.join(tls, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints = critical, CA:FALSE\n"
                "keyUsage = critical, digitalSignature, keyEncipherment\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectAltName = %s\n" % ",".join(sans))
    subj = "/O=postern tests/CN=%s" % cn
    if ca:
        csr = os.path.join(tls, name + ".csr")
        _run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes",
              "-keyout", key, "-out", csr, "-subj", subj])
        _run(["openssl", "x509", "-req", "-in", csr, "-CA",
              os.path.join(tls, "ca.crt"), "-CAkey",
              os.path.join(tls, "ca.key"), "-CAcreateserial",
              "-days", "30", "-sha256", "-extfile", ext, "-out", crt])
        os.unlink(csr)
    else:
        _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
              "-keyout", key, "-out", crt, "-subj", subj, "-days", "30",
              "-sha256", "-extensions", "v3_self", "-config", _selfcfg(
                  tls, name, sans)])
    os.chmod(key, 0o600)
    return crt, key


def _selfcfg(tls, name, sans):
    path = os.path.join(tls, name + ".cnf")
    with open(path, "w") as f:
        f.write("[req]\ndistinguished_name = dn\n[dn]\n"
                "[v3_self]\nbasicConstraints = critical, CA:FALSE\n"
                "keyUsage = critical, digitalSignature, keyEncipherment\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectAltName = %s\n" % ",".join(sans))
    return path


def make_certs(tls):
    """The CA, a server cert for 127.0.0.1/localhost, one for a wrong name,
    and a self-signed one.  RSA 2048, valid 30 days."""
    os.makedirs(tls, exist_ok=True)
    cacfg = os.path.join(tls, "ca.cnf")
    with open(cacfg, "w") as f:
        f.write("[req]\ndistinguished_name = dn\n[dn]\n"
                "[v3_ca]\nbasicConstraints = critical, CA:TRUE\n"
                "keyUsage = critical, keyCertSign, cRLSign\n"
                "subjectKeyIdentifier = hash\n")
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
          "-keyout", os.path.join(tls, "ca.key"),
          "-out", os.path.join(tls, "ca.crt"),
          "-subj", "/O=postern tests/CN=postern test CA", "-days", "30",
          "-sha256", "-config", cacfg, "-extensions", "v3_ca"])
    good = ["IP:127.0.0.1", "DNS:localhost"]
    out = {"ca": os.path.join(tls, "ca.crt")}
    out["server_cert"], out["server_key"] = _openssl_cert(
        tls, "server", "localhost", good, True)
    out["wrong_host_cert"], out["wrong_host_key"] = _openssl_cert(
        tls, "wrong-host", "wrong.invalid", ["DNS:wrong.invalid"], True)
    out["self_signed_cert"], out["self_signed_key"] = _openssl_cert(
        tls, "self-signed", "localhost", good, False)
    return out


# ---- ports --------------------------------------------------------------

def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound to 0, then released:
    a race with other programs is possible, so callers retry)."""
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def port_open(port, timeout=0.5):
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


# ---- configuration ------------------------------------------------------

def _identity():
    """(internal user, login user, mail uid, mail gid, chroot login?)"""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        # Dovecot refuses to run its login and internal services as root;
        # the Debian package creates these two.
        for u in ("dovecot", "dovenull"):
            try:
                pwd.getpwnam(u)
            except KeyError:
                raise HarnessError("user %s missing (install dovecot-core)"
                                   % u)
        # ... and mail access as root ("Mail access not allowed for
        # root"): mail belongs to nobody, which root can still read.
        nobody = pwd.getpwnam("nobody")
        return "dovecot", "dovenull", nobody.pw_uid, nobody.pw_gid, True
    name = pwd.getpwuid(uid).pw_name
    return name, name, uid, gid, False


def mail_owner():
    """(uid, gid) that Dovecot accesses mail as; files put into a Maildir
    by hand must be readable by it and directories writable:
    fix_mail_owner(info) does it after the fact."""
    _i, _l, uid, gid, _c = _identity()
    return uid, gid


def chown_tree(top, uid, gid):
    if os.getuid() != 0:
        return
    os.chown(top, uid, gid)
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), uid, gid)


def fix_mail_owner(info):
    """After writing into info['mail_root'] as root: give it to Dovecot."""
    chown_tree(info["mail_root"], info["mail_uid"], info["mail_gid"])


def write_config(d, ports, certs, serve="server"):
    internal, login, uid, gid, chroot = _identity()
    mail = os.path.join(d, "mail")
    home = os.path.join(d, "home")
    passwd = os.path.join(d, "passwd")
    with open(passwd, "w") as f:
        for u, pw in USERS.items():
            # {PLAIN}: CRAM-MD5 needs the plaintext on the server side.
            # uid/gid come from mail_uid/mail_gid: passwd-file rejects 0
            f.write("%s:{PLAIN}%s::::%s/%s::\n" % (u, pw, home, u))
    # auth runs as the internal user: it must read the file, nobody else
    os.chmod(passwd, 0o600)
    if os.getuid() == 0:
        pw = pwd.getpwnam(internal)
        os.chown(passwd, pw.pw_uid, pw.pw_gid)
    for u in USERS:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(mail, u, sub), exist_ok=True)
        os.makedirs(os.path.join(home, u), exist_ok=True)
    chown_tree(mail, uid, gid)
    chown_tree(home, uid, gid)
    conf = os.path.join(d, "dovecot.conf")
    log = os.path.join(d, "dovecot.log")
    imap_port, imaps_port = ports
    text = f"""# generated by tests/integration/dovecot.py; do not edit
base_dir = {d}/run
state_dir = {d}/state
instance_name = postern-test-{zlib.crc32(d.encode()):08x}
protocols = imap
listen = {HOST}
shutdown_clients = yes
log_path = {log}
info_log_path = {log}
debug_log_path = {log}
auth_verbose = yes

default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 0
first_valid_gid = 0
mail_uid = {uid}
mail_gid = {gid}

ssl = yes
ssl_cert = <{certs[SERVE[serve] + '_cert']}
ssl_key = <{certs[SERVE[serve] + '_key']}
ssl_min_protocol = TLSv1.2
# loopback tests log in over plain TCP too (the client decides)
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}

mail_location = maildir:{mail}/%u
mail_attribute_dict = file:%h/dovecot-attributes
mail_plugins = $mail_plugins quota acl
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = create
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = create
  }}
}}

protocol imap {{
  mail_plugins = $mail_plugins imap_quota imap_acl imap_zlib
  imap_metadata = yes
  mail_max_userip_connections = 100
}}

plugin {{
  quota = maildir:User quota
  quota_rule = *:storage=1G
  acl = vfile
}}

service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {imaps_port}
    ssl = yes
  }}
  {'' if chroot else 'chroot ='}
  process_min_avail = 0
}}
service imap {{
  process_limit = 200
}}
{'' if chroot else '''service auth {
  user = $default_internal_user
}
service auth-worker {
  user = $default_internal_user
}
service anvil {
  chroot =
}'''}
"""
    with open(conf, "w") as f:
        f.write(text)
    return conf, log


# ---- start / stop -------------------------------------------------------

def _read_pid(d):
    try:
        with open(os.path.join(d, "run", "master.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _log_tail(log, n=15):
    try:
        with open(log, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


def preauth_argv(d, user="alice"):
    return [IMAP_BIN, "-c", os.path.join(d, "dovecot.conf"), "-u", user]


def check_preauth(d, timeout=10.0):
    """Run the tunnel command, expect a PREAUTH greeting, log out."""
    p = subprocess.Popen(preauth_argv(d), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(b"a1 LOGOUT\r\n", timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise HarnessError("PREAUTH tunnel timed out")
    first = out.split(b"\r\n", 1)[0]
    if not first.startswith(b"* PREAUTH"):
        raise HarnessError("PREAUTH tunnel: greeting %r, stderr %r" % (
            first[:200], err[-300:]))
    return first.decode(errors="replace")


def _check_traversable(d):
    """As root, Dovecot's auth and mail processes run as other users and
    must reach d: every parent needs o+x.  A mkdtemp() parent (0700, in
    the temp dir) gets o+x added (search only, no listing); any other
    directory is left alone and named in the error."""
    import tempfile
    tmp = os.path.realpath(tempfile.gettempdir())
    p = os.path.dirname(d)
    while p and p != "/":
        st = os.stat(p)
        if not st.st_mode & 0o001 and st.st_uid == os.getuid() and \
                os.path.realpath(p).startswith(tmp + os.sep):
            os.chmod(p, (st.st_mode & 0o7777) | 0o001)
        elif not st.st_mode & 0o001:
            raise HarnessError("%s is not searchable by others (mode %o); "
                               "Dovecot's unprivileged processes cannot "
                               "reach %s: chmod o+x it or pick another "
                               "directory" % (p, os.stat(p).st_mode & 0o777,
                                              d))
        p = os.path.dirname(p)


def load_certs(tls):
    """The certificates in tls (made there first if missing)."""
    if not os.path.exists(os.path.join(tls, "self-signed.crt")):
        return make_certs(tls)
    certs = {"ca": os.path.join(tls, "ca.crt")}
    for n, k in (("server", "server"), ("wrong-host", "wrong_host"),
                 ("self-signed", "self_signed")):
        certs[k + "_cert"] = os.path.join(tls, n + ".crt")
        certs[k + "_key"] = os.path.join(tls, n + ".key")
    return certs


# what Dovecot presents: the CA-signed cert for 127.0.0.1 by default; the
# others let certificate-failure tests talk to a real Dovecot
SERVE = {"server": "server", "wrong-host": "wrong_host",
         "self-signed": "self_signed"}


def start(d, timeout=START_TIMEOUT, serve="server", tls_dir=None):
    """Create d (must not hold a running instance) and start Dovecot.
    serve picks the certificate it presents (SERVE); tls_dir reuses the
    CA and certificates of another instance (its DIR/tls) instead of
    making new ones in d/tls.  Returns the info dict, also written to
    d/info.json."""
    if serve not in SERVE:
        raise HarnessError("serve: %r is not one of %s" % (
            serve, ", ".join(SERVE)))
    d = os.path.abspath(d)
    if os.path.exists(os.path.join(d, "info.json")):
        pid = _read_pid(d)
        if pid and _alive(pid):
            raise HarnessError("%s: Dovecot already running (pid %d)"
                               % (d, pid))
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)  # dovenull/dovecot traverse it when we are root
    if os.getuid() == 0:
        _check_traversable(d)
    if not os.access(DOVECOT, os.X_OK):
        raise HarnessError("%s not found (sh tools/deps.sh installs "
                           "dovecot-imapd)" % DOVECOT)
    certs = load_certs(os.path.abspath(tls_dir) if tls_dir
                       else os.path.join(d, "tls"))
    last = "no attempt"
    for _attempt in range(4):
        ports = free_ports(2)
        conf, log = write_config(d, ports, certs, serve)
        if os.path.exists(log):
            os.unlink(log)
        # Without -F dovecot daemonises once its listeners are bound, and
        # fails (exit 89, "Address already in use") if a port was taken.
        # Its output goes to a file: the daemon inherits it, and a pipe
        # would stay open for as long as Dovecot runs.
        outpath = os.path.join(d, "dovecot.out")
        with open(outpath, "w+b") as out:
            p = subprocess.run([DOVECOT, "-c", conf], stdout=out,
                               stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, timeout=timeout)
            out.seek(0)
            last = out.read().decode(errors="replace").strip()
        if p.returncode != 0:
            if "in use" in last:
                continue
            raise HarnessError("dovecot failed to start: %s\n%s" % (
                last, _log_tail(log)))
        pid = _wait_started(d, ports, log, timeout)
        break
    else:
        raise HarnessError("dovecot: no free ports after 4 tries: " + last)
    info = {
        "host": HOST,
        "imap_port": ports[0],
        "imaps_port": ports[1],
        "users": dict(USERS),
        "mail_root": os.path.join(d, "mail"),
        "config": conf,
        "log": log,
        "dir": d,
        "pid": pid,
        "mail_uid": mail_owner()[0],
        "mail_gid": mail_owner()[1],
        "preauth_argv": preauth_argv(d),
        "preauth_cmd": " ".join(preauth_argv(d)),
        "preauth_user": "alice",
        "serves": serve,
    }
    info.update(certs)
    try:
        info["preauth_greeting"] = check_preauth(d)
    except HarnessError:
        stop(d)
        raise
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    return info


def _wait_started(d, ports, log, timeout):
    deadline = time.monotonic() + timeout
    pid = None
    while time.monotonic() < deadline:
        pid = pid or _read_pid(d)
        if pid and not _alive(pid):
            raise HarnessError("dovecot exited at start:\n" + _log_tail(log))
        if pid and all(port_open(p) for p in ports):
            return pid
        time.sleep(0.05)
    if pid:
        _kill(pid)
    raise HarnessError("dovecot did not listen on %s within %d s:\n%s" % (
        ports, timeout, _log_tail(log)))


def _kill(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    return not _alive(pid)


def _ours(pid, d):
    """True when pid is the Dovecot master started with d's config: a
    recorded PID may have been reused by an unrelated process since."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    conf = os.path.join(d, "dovecot.conf").encode()
    return any(a.endswith(b"dovecot") for a in argv[:1]) and conf in argv


def stop(d):
    """Stop the instance in d; True when its master is gone.  Only a
    process that is Dovecot running d's config is ever signalled."""
    d = os.path.abspath(d)
    pid = _read_pid(d)
    if pid is None:
        try:
            with open(os.path.join(d, "info.json")) as f:
                pid = json.load(f)["pid"]
        except (OSError, ValueError, KeyError):
            return True
    if not _ours(pid, d):
        return True  # not running: the PID is gone or now someone else's
    return _kill(pid)


class Harness:
    """with Harness() as info: ...  (a temp dir, removed afterwards unless
    keep=True or the dir was given)."""

    def __init__(self, d=None, keep=False):
        import tempfile
        self.own = d is None
        self.dir = d or tempfile.mkdtemp(prefix="postern-dovecot-")
        self.keep = keep
        self.info = None

    def __enter__(self):
        try:
            self.info = start(self.dir)
        except BaseException:
            self._cleanup()
            raise
        return self.info

    def __exit__(self, *exc):
        stop(self.dir)
        self._cleanup()
        return False

    def _cleanup(self):
        if self.own and not self.keep:
            import shutil
            shutil.rmtree(self.dir, ignore_errors=True)


# ---- CLI ----------------------------------------------------------------

def _usage():
    sys.stderr.write("usage: dovecot.py start DIR [--serve server|"
                     "wrong-host|self-signed] [--tls-dir DIR2/tls]\n"
                     "       dovecot.py stop DIR | info DIR\n"
                     "       dovecot.py run [--dir DIR] [--keep] -- CMD...\n")
    return 2


def main(argv):
    if len(argv) < 2:
        return _usage()
    cmd = argv[1]
    try:
        if cmd == "start" and len(argv) >= 3:
            opts = {}
            rest = argv[3:]
            while rest:
                if rest[0] == "--serve" and len(rest) > 1:
                    opts["serve"] = rest[1]
                elif rest[0] == "--tls-dir" and len(rest) > 1:
                    opts["tls_dir"] = rest[1]
                else:
                    return _usage()
                rest = rest[2:]
            print(json.dumps(start(argv[2], **opts), indent=1))
            return 0
        if cmd == "stop" and len(argv) == 3:
            if stop(argv[2]):
                return 0
            print("dovecot.py: the master process did not exit",
                  file=sys.stderr)
            return 1
        if cmd == "info" and len(argv) == 3:
            with open(os.path.join(argv[2], "info.json")) as f:
                sys.stdout.write(f.read())
            return 0
        if cmd == "run":
            rest = argv[2:]
            d, keep = None, False
            while rest and rest[0] != "--":
                if rest[0] == "--dir" and len(rest) > 1:
                    d, rest = rest[1], rest[2:]
                elif rest[0] == "--keep":
                    keep, rest = True, rest[1:]
                else:
                    return _usage()
            if not rest or len(rest) < 2:
                return _usage()
            with Harness(d, keep) as info:
                env = dict(os.environ)
                env["POSTERN_TEST_DOVECOT"] = os.path.join(info["dir"],
                                                           "info.json")
                p = subprocess.run(rest[1:], env=env)
                return p.returncode if p.returncode >= 0 else 128 - p.returncode
    except HarnessError as e:
        print("dovecot.py: %s" % e, file=sys.stderr)
        return 1
    return _usage()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
