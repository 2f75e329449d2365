#!/usr/bin/python3
"""Self-test of the test peers: starts smtpd.py and webhookd.py (a certificate from mkcert.sh in
a temporary directory), drives them with smtplib, http.client and urllib, and checks answers
and logs.

    /usr/bin/python3 tests/integration/peers/selftest.py

Prints "ok NAME" or "FAIL NAME: why" per check and a last line "peers: N passed, M failed";
exits 1 when any failed.  Synchronises on the peers' READY lines (with a deadline), never on
sleeps; stops the peers and removes the temporary directory however it ends.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import select
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
READY_TIMEOUT = 10  # seconds; a peer is ready in ~0.2 s

USER, PASSWORD = "reminders", "pa:ss w0rd"  # a colon and a space in the password, on purpose
SECRET = "hook-secret"
PASSED, FAILED = [], []


class Peer:
    def __init__(self, name, argv, tmp):
        self.name = name
        self.ready_file = os.path.join(tmp, name + ".port")
        self.stderr = open(os.path.join(tmp, name + ".stderr"), "w+")
        self.proc = subprocess.Popen([PYTHON, *argv, "--ready-file", self.ready_file],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        self.port = None

    def wait_ready(self, deadline):
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                raise RuntimeError(f"{self.name}: not READY within {READY_TIMEOUT} s")
            chunk = os.read(self.proc.stdout.fileno(), 1)
            if not chunk:
                self.stderr.seek(0)
                raise RuntimeError(f"{self.name} exited: {self.stderr.read().strip()}")
            line += chunk
        word, port = line.decode().split()
        if word != "READY":
            raise RuntimeError(f"{self.name}: {line!r}")
        self.port = int(port)

    def stop(self):
        """SIGTERM; the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        self.proc.stdout.close()
        self.stderr.close()
        return self.proc.returncode


def check(name, fn, *args):
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - every failure is a FAIL line
        FAILED.append(name)
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
        traceback.print_exc(file=sys.stderr)
    else:
        PASSED.append(name)
        print(f"ok {name}", flush=True)


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def log_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def message(n):
    return (f"From: noticed <noticed@example.org>\r\nTo: a@example.org\r\n"
            f"Subject: test {n}\r\nMessage-ID: <test-{n}@noticed.example>\r\n"
            f"\r\nline one\r\n.a line with a leading dot\r\n").encode()


# --- SMTP -----------------------------------------------------------------------------------

def smtp_starttls_required(peer, ctx):
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
        s.ehlo()
        expect(s.has_extn("starttls"), "STARTTLS not offered")
        expect(not s.has_extn("auth"), "AUTH offered before STARTTLS")
        code, reply = s.mail("noticed@example.org")
        expect(code == 530, f"MAIL before STARTTLS: {code} {reply!r}")


def smtp_optional_takes_mail_without_starttls_or_auth(peer, ctx, maildir):
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
        s.ehlo()
        expect(s.has_extn("starttls"), "STARTTLS not offered")
        expect(not s.has_extn("auth"), "AUTH offered before STARTTLS")
        s.sendmail("noticed@example.org", ["a@example.org"], message(4))
    expect_logged(maildir, 4, message(4), ["a@example.org"], False, None)
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
        s.starttls(context=ctx)
        s.ehlo()
        expect(s.has_extn("auth"), "AUTH not offered after STARTTLS")
        s.login(USER, PASSWORD)
        s.sendmail("noticed@example.org", ["a@example.org"], message(5))
    expect_logged(maildir, 5, message(5), ["a@example.org"], True, USER)


def smtp_login_challenges(peer, ctx):
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
        s.starttls(context=ctx)
        s.ehlo()
        code, reply = s.docmd("AUTH", "LOGIN")
        expect((code, base64.b64decode(reply)) == (334, b"Username:"), f"{code} {reply!r}")
        code, reply = s.docmd(base64.b64encode(USER.encode()).decode())
        expect((code, base64.b64decode(reply)) == (334, b"Password:"), f"{code} {reply!r}")
        code, reply = s.docmd(base64.b64encode(PASSWORD.encode()).decode())
        expect(code == 235, f"password: {code} {reply!r}")


def smtp_auth_required(peer, ctx):
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
        s.starttls(context=ctx)
        s.ehlo()
        code, reply = s.mail("noticed@example.org")
        expect(code == 530, f"MAIL without AUTH: {code} {reply!r}")


def smtp_wrong_password(peer, ctx, implicit_tls=False):
    for mechanism in ("PLAIN", "LOGIN"):
        if implicit_tls:
            s = smtplib.SMTP_SSL("127.0.0.1", peer.port, timeout=5, context=ctx)
        else:
            s = smtplib.SMTP("127.0.0.1", peer.port, timeout=5)
            s.starttls(context=ctx)
        with s:
            s.user, s.password = USER, "wrong"
            try:
                s.ehlo()
                s.auth(mechanism, getattr(s, "auth_" + mechanism.lower()))
            except smtplib.SMTPAuthenticationError as e:
                expect(e.smtp_code == 535, f"{mechanism}: {e.smtp_code}")
            else:
                raise AssertionError(f"{mechanism}: wrong password accepted")


def expect_logged(maildir, n, data, rcpts, tls, auth):
    lines = log_lines(os.path.join(maildir, "log.jsonl"))
    expect(lines, "nothing logged")
    last = lines[-1]
    expect(last["mail_from"] == "noticed@example.org", f"mail_from {last['mail_from']!r}")
    expect(last["rcpt_tos"] == rcpts, f"rcpt_tos {last['rcpt_tos']!r}")
    expect(last["tls"] is tls and last["auth"] == auth, f"tls/auth {last!r}")
    expect(last["message_id"] == f"<test-{n}@noticed.example>", f"{last['message_id']!r}")
    expect(last["size"] == len(data), f"size {last['size']} != {len(data)}")
    with open(os.path.join(maildir, last["file"]), "rb") as f:
        expect(f.read() == data, f"{last['file']} differs from what was sent")
    return lines


def smtp_starttls_send(peer, ctx, maildir):
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
        s.starttls(context=ctx)
        s.login(USER, PASSWORD)  # smtplib picks PLAIN
        s.sendmail("noticed@example.org", ["a@example.org", "b@example.org"], message(1))
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
        s.starttls(context=ctx)
        s.ehlo()
        s.user, s.password = USER, PASSWORD
        s.auth("LOGIN", s.auth_login)
        s.sendmail("noticed@example.org", ["a@example.org"], message(2))
    lines = log_lines(os.path.join(maildir, "log.jsonl"))
    expect([x["file"] for x in lines] == ["1.eml", "2.eml"], f"files {lines!r}")
    expect(lines[0]["rcpt_tos"] == ["a@example.org", "b@example.org"], f"{lines[0]!r}")
    expect_logged(maildir, 2, message(2), ["a@example.org"], True, USER)
    expect(sorted(os.listdir(maildir)) == ["1.eml", "2.eml", "log.jsonl"],
           f"maildir holds {os.listdir(maildir)}")


def smtp_smtps_send(peer, ctx, maildir):
    with smtplib.SMTP_SSL("127.0.0.1", peer.port, timeout=5, context=ctx) as s:
        s.login(USER, PASSWORD)
        s.sendmail("noticed@example.org", ["a@example.org"], message(3))
    expect_logged(maildir, 3, message(3), ["a@example.org"], True, USER)


def smtp_fail_first(peer, maildir):
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
        try:
            s.sendmail("noticed@example.org", ["a@example.org"], message(4))
        except smtplib.SMTPDataError as e:
            expect(e.smtp_code == 451 and b"try again later" in e.smtp_error, f"{e}")
        else:
            raise AssertionError("first message accepted")
        expect(not log_lines(os.path.join(maildir, "log.jsonl")), "refused message logged")
        s.sendmail("noticed@example.org", ["a@example.org"], message(4))
    lines = expect_logged(maildir, 4, message(4), ["a@example.org"], False, None)
    expect(len(lines) == 1, f"{len(lines)} lines logged")


def smtp_reject_rcpt(peer, maildir):
    with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
        try:
            s.sendmail("noticed@example.org", ["Nobody@example.org"], message(5))
        except smtplib.SMTPRecipientsRefused as e:
            code, _ = e.recipients["Nobody@example.org"]
            expect(code == 550, f"{e.recipients}")
        else:
            raise AssertionError("rejected recipient accepted")
        refused = s.sendmail("noticed@example.org", ["a@example.org", "nobody@example.org"],
                             message(6))
        expect(refused.get("nobody@example.org", (0,))[0] == 550, f"refused {refused}")
    expect_logged(maildir, 6, message(6), ["a@example.org"], False, None)


def smtp_reject_all(peer, maildir):
    for n in (7, 8):
        with smtplib.SMTP("127.0.0.1", peer.port, timeout=5) as s:
            try:
                s.sendmail("noticed@example.org", ["a@example.org"], message(n))
            except smtplib.SMTPDataError as e:
                expect(e.smtp_code == 554, f"{e}")
            else:
                raise AssertionError(f"message {n} accepted")
    expect(not log_lines(os.path.join(maildir, "log.jsonl")), "refused message logged")


# --- webhooks -------------------------------------------------------------------------------

def signed(body, secret=SECRET, timestamp=None):
    ts = str(int(time.time()) if timestamp is None else timestamp)
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Noticed-Timestamp": ts, "X-Noticed-Signature": "sha256=" + mac}


def post(conn, path, body, headers):
    conn.request("POST", path, body=body, headers={
        "Content-Type": "application/json", "User-Agent": "noticed/selftest", **headers})
    response = conn.getresponse()
    response.read()
    return response


def last_hook(log):
    lines = log_lines(log)
    expect(lines, "nothing logged")
    return lines[-1]


def hook_signed(peer, log):
    conn = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=5)
    body = b'{"type":"reminder","reminder_id":"r1"}'
    r = post(conn, "/hook", body, {**signed(body), "Idempotency-Key": "r1"})
    expect(r.status == 200, f"status {r.status}")
    x = last_hook(log)
    expect(x["verified"] is True and x["status"] == 200 and x["path"] == "/hook", f"{x}")
    expect(x["idempotency_key"] == "r1" and isinstance(x["timestamp"], int), f"{x}")
    expect(x["content_type"] == "application/json", f"{x}")
    expect(x["user_agent"] == "noticed/selftest", f"{x}")
    expect(x["body"] == {"type": "reminder", "reminder_id": "r1"}, f"{x}")
    conn.close()


def hook_rejects(peer, log):
    conn = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=5)
    body = b'{"type":"reminder"}'
    cases = {
        "tampered body": (b'{"type":"overdue"}', signed(body)),
        "no signature": (body, {}),
        "wrong secret": (body, signed(body, secret="other")),
        "stale timestamp": (body, signed(body, timestamp=int(time.time()) - 301)),
        "future timestamp": (body, signed(body, timestamp=int(time.time()) + 301)),
    }
    for what, (sent, headers) in cases.items():
        r = post(conn, "/hook", sent, headers)
        expect(r.status == 401, f"{what}: status {r.status}")
        x = last_hook(log)
        expect(x["verified"] is False and x["status"] == 401, f"{what}: {x}")
    conn.close()


def hook_script(peer, log):
    conn = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=5)
    body = b"{}"
    got = []
    for path in ("/flaky", "/flaky", "/flaky", "/gone", "/gone", "/busy", "/busy"):
        r = post(conn, path, body, signed(body))
        got.append((path, r.status, r.getheader("Retry-After")))
    expect(got == [("/flaky", 500, None), ("/flaky", 200, None), ("/flaky", 200, None),
                   ("/gone", 410, None), ("/gone", 410, None),
                   ("/busy", 429, "2"), ("/busy", 200, None)], f"{got}")
    # A 401 does not use up a scripted answer.
    r = post(conn, "/retry", body, {})
    expect(r.status == 401, f"unsigned /retry: {r.status}")
    r = post(conn, "/retry", body, signed(body))
    expect(r.status == 503, f"signed /retry: {r.status}")
    statuses = [(x["path"], x["status"]) for x in log_lines(log)[-9:]]
    expect(statuses == [(p, s) for p, s, _ in got] + [("/retry", 401), ("/retry", 503)],
           f"logged {statuses}")
    conn.close()


def hook_keepalive(peer, log):
    """One connection for many requests, and no Nagle stall (~40 ms each with it)."""
    conn = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=5)
    body = b'{"n":0}'
    post(conn, "/fast", body, signed(body))
    sock = conn.sock
    n = 200
    start = time.monotonic()
    for _ in range(n):
        r = post(conn, "/fast", body, signed(body))
        expect(r.status == 200 and not r.will_close, f"status {r.status}")
    elapsed = time.monotonic() - start
    expect(conn.sock is sock, "the connection was not kept alive")
    expect(elapsed < 2.0, f"{n} requests took {elapsed:.2f} s")
    conn.close()


def hook_https(peer, log, ctx):
    body = json.dumps({"text": "*hi*"}).encode()
    request = urllib.request.Request(f"https://127.0.0.1:{peer.port}/slack", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=ctx, timeout=5) as r:
        expect(r.status == 200, f"status {r.status}")
    x = last_hook(log)
    expect(x["verified"] is None and x["body"] == {"text": "*hi*"}, f"{x}")
    try:
        urllib.request.urlopen(f"https://127.0.0.1:{peer.port}/", context=ssl.create_default_context(),
                               timeout=5)
    except urllib.error.URLError as e:
        expect(isinstance(e.reason, ssl.SSLCertVerificationError), f"{e}")
    else:
        raise AssertionError("an untrusted certificate was accepted")


def run(tmp):
    subprocess.run(["sh", os.path.join(HERE, "mkcert.sh"), tmp], check=True)
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    ctx = ssl.create_default_context(cafile=cert)
    smtpd, webhookd = os.path.join(HERE, "smtpd.py"), os.path.join(HERE, "webhookd.py")
    mail = {name: os.path.join(tmp, name)
            for name in ("starttls", "smtps", "faults", "refuse", "optional")}
    hooks, hooks_tls = os.path.join(tmp, "hooks.jsonl"), os.path.join(tmp, "hooks-tls.jsonl")
    tls = ["--cert", cert, "--key", key, "--auth", f"{USER}:{PASSWORD}"]
    peers = {}
    try:
        specs = {
            "starttls": [smtpd, "--mode", "starttls", *tls, "--maildir", mail["starttls"]],
            "smtps": [smtpd, "--mode", "smtps", *tls, "--maildir", mail["smtps"]],
            "optional": [smtpd, "--mode", "starttls", *tls, "--maildir", mail["optional"],
                         "--optional"],
            "faults": [smtpd, "--mode", "plain", "--maildir", mail["faults"],
                       "--fail-first", "1:451 4.3.0 try again later",
                       "--reject-rcpt", "nobody@example.org:550 5.1.1 no such user",
                       "--reject-rcpt", "other@example.org:550 5.1.1 no such user"],
            "refuse": [smtpd, "--maildir", mail["refuse"], "--reject-all", "554 5.7.1 go away"],
            "webhookd": [webhookd, "--log", hooks, "--secret", SECRET,
                         "--script", "/flaky=500,200", "--script", "/gone=410",
                         "--script", "/busy=429:Retry-After=2,200", "--script", "/retry=503"],
            "webhookd-tls": [webhookd, "--log", hooks_tls, "--tls", f"{cert}:{key}"],
        }
        for name, argv in specs.items():  # all start at once, then each is waited for
            peers[name] = Peer(name, argv, tmp)
        deadline = time.monotonic() + READY_TIMEOUT
        for peer in peers.values():
            peer.wait_ready(deadline)

        def ready_files():
            for peer in peers.values():
                with open(peer.ready_file) as f:
                    expect(int(f.read()) == peer.port, f"{peer.name}: ready file")
                expect(not os.path.exists(peer.ready_file + ".tmp"), f"{peer.name}: .tmp left")

        check("ready files", ready_files)
        p = peers
        check("smtp starttls required", smtp_starttls_required, p["starttls"], ctx)
        check("smtp login challenges", smtp_login_challenges, p["starttls"], ctx)
        check("smtp auth required", smtp_auth_required, p["starttls"], ctx)
        check("smtp wrong password 535", smtp_wrong_password, p["starttls"], ctx)
        check("smtp starttls send", smtp_starttls_send, p["starttls"], ctx, mail["starttls"])
        check("smtp smtps send", smtp_smtps_send, p["smtps"], ctx, mail["smtps"])
        check("smtp optional STARTTLS and AUTH", smtp_optional_takes_mail_without_starttls_or_auth,
              p["optional"], ctx, mail["optional"])
        check("smtp smtps wrong password 535", smtp_wrong_password, p["smtps"], ctx, True)
        check("smtp 451 then accept", smtp_fail_first, p["faults"], mail["faults"])
        check("smtp rcpt rejected", smtp_reject_rcpt, p["faults"], mail["faults"])
        check("smtp reject all", smtp_reject_all, p["refuse"], mail["refuse"])
        check("webhook signed 200", hook_signed, p["webhookd"], hooks)
        check("webhook bad signatures 401", hook_rejects, p["webhookd"], hooks)
        check("webhook scripted statuses", hook_script, p["webhookd"], hooks)
        check("webhook keep-alive", hook_keepalive, p["webhookd"], hooks)
        check("webhook https", hook_https, p["webhookd-tls"], hooks_tls, ctx)
    finally:
        codes = {name: peer.stop() for name, peer in peers.items()}
    if len(codes) == len(specs):
        def clean_exit():
            expect(all(c == 0 for c in codes.values()), f"exit statuses {codes}")
        check("SIGTERM exits 0", clean_exit)


def main():
    # Cleaned up on SIGTERM too (the finally clauses run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="noticed-peers-")
    start = time.monotonic()
    try:
        run(tmp)
    except Exception as e:  # noqa: BLE001 - a peer that did not start
        FAILED.append("setup")
        print(f"FAIL setup: {e}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"peers: {len(PASSED)} passed, {len(FAILED)} failed "
          f"({time.monotonic() - start:.1f} s)")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
