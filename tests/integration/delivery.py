#!/usr/bin/python3
"""noticed delivering over the network to real peers: SMTP relays and webhook receivers.

Each test starts the peers it needs on 127.0.0.1 (tests/integration/peers: smtpd.py with
STARTTLS, implicit TLS, AUTH and scripted faults; webhookd.py checking the HMAC signature and
answering scripted statuses), trusts a certificate made by peers/mkcert.sh for this run through
`ca_file`, and starts the real `noticed --foreground` the way daemon.py does (its harness is
imported from there).  Dates are relative to today, so the reminders are caught up, and sent,
at once.  The tests wait for the daemon's STATUS= datagrams (re-sent whenever the outbox settles
something), for its log lines, or for the peers' logs, always with a deadline; never a fixed
sleep.

  NOTICED=build/noticed NOTICECTL=build/noticectl /usr/bin/python3 tests/integration/delivery.py [NAME...]

Prints "ok NAME" or "FAIL NAME: why" per test (details on stderr) and a last line
"delivery: N passed, M failed"; exits 1 when any failed.  NOTICED_KEEP_TMP=1 keeps the temporary
directories of failed tests.  Standard library, python3-aiosmtpd and python3-icalendar only.
"""

import hashlib
import hmac
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import daemon  # noqa: E402  (the harness of tests/integration/daemon.py)
from daemon import (CHECK_MAIL, NOTICECTL, PYTHON, TIMEOUT, Failure, Noticed,  # noqa: E402
                    Skip, days, expect, expect_equal, header, parse_mail, today_in)

PEERS = os.path.join(HERE, "peers")
EX_DATAERR, EX_UNAVAILABLE = 65, 69

# Retries fast enough for a test: waits of 0.5-1 s, then 1-2 s.
RETRY = {"retry_base": "1s", "retry_max": "2s"}
RELAY_USER, RELAY_PASSWORD = "noticed", "pa:ss w0rd"
HOOK_SECRET = "hook secret, 32 bytes or so long"
FROM = "Noticed test <noticed@test.example>"

# The certificate of this run (peers/mkcert.sh), made once on first use.
_cert_dir = None


def cert():
    """(cert.pem, key.pem) of a certificate for 127.0.0.1 and localhost, made for this run."""
    global _cert_dir
    if _cert_dir is None:
        path = tempfile.mkdtemp(prefix="noticed-delivery-cert.")
        p = subprocess.run(["sh", os.path.join(PEERS, "mkcert.sh"), path], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            shutil.rmtree(path, ignore_errors=True)
            raise Failure(f"mkcert.sh: exit {p.returncode}: {p.stderr.strip()}")
        _cert_dir = path
    return os.path.join(_cert_dir, "cert.pem"), os.path.join(_cert_dir, "key.pem")


def remove_cert():
    global _cert_dir
    if _cert_dir is not None:
        shutil.rmtree(_cert_dir, ignore_errors=True)
        _cert_dir = None


# --- waiting ----------------------------------------------------------------------------------


def wait_until(check, what, timeout=TIMEOUT, d=None, interval=0.02):
    """Polls check() (a value, or None/False for not yet) until it gives one or the deadline
    passes.  For peers' logs and the ledger, which send no signal.  With the daemon d: reads its
    notify datagrams meanwhile (as systemd would: a full socket queue blocks its sd_notify()),
    and fails early when it exits."""
    deadline = time.monotonic() + timeout
    while True:
        if d is not None:
            d.drain()
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not within {timeout:.0f} s"
                          + (d.stderr_tail() if d is not None else ""))
        if d is not None and d.proc is not None and not d.running():
            value = check()
            if value:
                return value
            raise Failure(f"{what}: noticed exited with status {d.proc.returncode}"
                          f"{d.stderr_tail()}")
        time.sleep(interval)  # a polling interval, not a synchronisation


STATUS_COUNTS = re.compile(r"; \d{4}-\d\d-\d\d: sent (\d+), failed (\d+), skipped (\d+); "
                           r"in all: sent (\d+), failed (\d+); queued (\d+)"
                           r"(?: \((\d+) in flight\))?$")


def counts(status):
    """{"sent", "failed", "skipped", "queued", "in_flight"} of a STATUS= text: the ledger's,
    sent and failed in all (each test has a ledger of its own), skipped on the day."""
    m = STATUS_COUNTS.search(status or "")
    if not m:
        return None
    return {"sent": int(m[4]), "failed": int(m[5]), "skipped": int(m[3]), "queued": int(m[6]),
            "in_flight": int(m[7] or 0)}


def wait_counts(d, what, timeout=TIMEOUT, **want):
    """Waits for a STATUS= whose counts include want (sent=2, failed=1, ...); returns them.  The
    daemon re-sends STATUS= whenever its outbox settles something."""
    deadline = time.monotonic() + timeout

    def good(status):
        c = counts(status)
        return c is not None and all(c[k] == v for k, v in want.items())

    while True:
        if good(d.last_status()):
            return counts(d.last_status())
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure(f"no STATUS with {what} within {timeout:.0f} s; last STATUS: "
                          f"{d.last_status()!r}{d.stderr_tail()}")
        try:
            d.wait_for("STATUS", timeout=left)
        except Failure as e:
            if good(d.last_status()):
                continue
            raise Failure(f"waiting for STATUS with {what}: {e}")


def wait_log(d, pattern, what, timeout=TIMEOUT):
    """Waits for a line of the daemon's stderr that matches pattern; returns the match."""
    regex = re.compile(pattern, re.M)
    return wait_until(lambda: regex.search(d.stderr_text()), f"log line {what}", timeout, d)


# --- peers ------------------------------------------------------------------------------------


class Peer:
    """A peer process: started, READY awaited on its stdout (with a deadline), stopped by
    SIGTERM (SIGKILL when it does not go)."""

    def __init__(self, name, script, args, workdir):
        self.name = name
        self.stderr_path = os.path.join(workdir, f"{name}.stderr")
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen([PYTHON, os.path.join(PEERS, script), *args],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=err)
        try:
            self.port = self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                raise Failure(f"{self.name}: not READY within {timeout:.0f} s")
            chunk = os.read(self.proc.stdout.fileno(), 64)
            if not chunk:
                self.proc.wait(TIMEOUT)
                raise Failure(f"{self.name} exited with status {self.proc.returncode}: "
                              f"{open(self.stderr_path, errors='replace').read().strip()}")
            line += chunk
        m = re.fullmatch(rb"READY (\d+)\n", line)
        if not m:
            raise Failure(f"{self.name} said {line!r}, not READY PORT")
        return int(m[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()

    @staticmethod
    def _read_jsonl(path):
        try:
            with open(path) as f:
                lines = f.read().splitlines(keepends=True)
        except FileNotFoundError:
            return []
        # A line without its newline is still being written.
        return [json.loads(line) for line in lines if line.endswith("\n")]


class Smtpd(Peer):
    """smtpd.py; accepted messages go to self.maildir, one line each to log.jsonl."""

    def __init__(self, workdir, name="smtpd", *, mode="plain", auth=None, port=0, maildir=None,
                 extra=()):
        self.maildir = maildir or os.path.join(workdir, f"{name}-mail")
        args = ["--port", str(port), "--mode", mode, "--maildir", self.maildir]
        if mode != "plain":
            certificate, key = cert()
            args += ["--cert", certificate, "--key", key]
        if auth:
            args += ["--auth", f"{auth[0]}:{auth[1]}"]
        super().__init__(name, "smtpd.py", args + list(extra), workdir)

    def records(self):
        return self._read_jsonl(os.path.join(self.maildir, "log.jsonl"))

    def count(self):
        """Messages logged so far, cheaply (for the burst)."""
        try:
            with open(os.path.join(self.maildir, "log.jsonl"), "rb") as f:
                return f.read().count(b"\n")
        except FileNotFoundError:
            return 0

    def path(self, record):
        return os.path.join(self.maildir, record["file"])

    def wait_records(self, n, d=None, timeout=TIMEOUT):
        return wait_until(lambda: (lambda r: r if len(r) >= n else None)(self.records()),
                          f"{self.name}: {n} message(s)", timeout, d)

    def url(self, scheme="smtp"):
        return f"{scheme}://127.0.0.1:{self.port}"


class Webhookd(Peer):
    """webhookd.py; one line per request in self.log."""

    def __init__(self, workdir, name="webhookd", *, tls=False, secret=None, scripts=(), port=0):
        self.log = os.path.join(workdir, f"{name}.jsonl")
        self.tls = tls
        args = ["--port", str(port), "--log", self.log]
        if tls:
            args += ["--tls", "%s:%s" % cert()]
        if secret is not None:
            args += ["--secret", secret]
        for s in scripts:
            args += ["--script", s]
        super().__init__(name, "webhookd.py", args, workdir)

    def records(self):
        return self._read_jsonl(self.log)

    def wait_records(self, n, d=None, timeout=TIMEOUT):
        return wait_until(lambda: (lambda r: r if len(r) >= n else None)(self.records()),
                          f"{self.name}: {n} request(s)", timeout, d)

    def url(self, path):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"


def free_port():
    """A port nothing listens on (bound, then closed: the kernel gave it out)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a test's world ---------------------------------------------------------------------------


class Case(Noticed):
    """A daemon under test (daemon.py's Noticed) with its peers; closing stops the peers, the
    daemon and removes the directory, however the test ended."""

    def __init__(self, name):
        super().__init__(name)
        self.peers = []

    def close(self):
        if self.running():  # first, so that no peer's going is logged as a failure
            self.proc.kill()
            self.proc.wait()
        for p in self.peers:
            try:
                p.stop()
            except Exception:
                traceback.print_exc()
        super().close()

    def smtpd(self, name="smtpd", **kwargs):
        peer = Smtpd(self.dir, name, **kwargs)
        self.peers.append(peer)
        return peer

    def webhookd(self, name="webhookd", **kwargs):
        peer = Webhookd(self.dir, name, **kwargs)
        self.peers.append(peer)
        return peer

    def secret_file(self, name, text, mode=0o600):
        path = os.path.join(self.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def run_noticectl(self, *args):
        """noticectl on this config and state directory, whatever its exit status."""
        return subprocess.run([NOTICECTL, "-c", self.conf, *args], env=self.env(),
                              capture_output=True, text=True, timeout=60)

    def rows(self):
        return self.history()[0]


# --- configs ----------------------------------------------------------------------------------


def value(v):
    """A libconfig value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(json.dumps(x) for x in v) + "]"
    return json.dumps(v)


def group(settings):
    return "{ " + " ".join(f"{k} = {value(v)};" for k, v in settings.items()) + " }"


def smtp_transport(relay, *, scheme="smtp", password_file=None, **extra):
    """The settings of a transport to relay: TLS (trusting this run's certificate) with AUTH when
    a password file is given, or plaintext to loopback."""
    t = {"url": relay.url(scheme), "from": FROM}
    if scheme == "smtps" or extra.get("tls") != "none":
        t["ca_file"] = cert()[0]
    if password_file:
        t.update(username=RELAY_USER, password_file=password_file)
    t.update(extra)
    return t


def plain_smtp_transport(relay, **extra):
    return smtp_transport(relay, tls="none", **extra)


def webhook_transport(hook, path, **extra):
    t = {"url": hook.url(path)}
    if hook.tls:
        t["ca_file"] = cert()[0]
    t.update(extra)
    return t


def recipient(rid, *, mail=True, webhooks=(), language=None):
    r = {"id": rid, "name": rid.title()}
    if mail:
        r["mail"] = [f"{rid}@test.example"]
    if webhooks:
        r["webhooks"] = list(webhooks)
    if language:
        r["language"] = language
    return r


def config_text(today, transports, recipients, participants, *, mail_via="relay",
                escalate_to=(), stop_timeout=None, language="en",
                deadlines=(("soon", "Deadline soon"),)):
    """A whole config: commitment c1 with deadline "soon" (or deadlines, (id, title) pairs) 5
    days ahead whose only reminder (10 days before it) has passed, so the start-up pass sends it
    at once to each participant; fast retries."""
    items = ", ".join(f'{{ id = "{i}"; date = "{today + days(5)}"; title = "{t}"; }}'
                      for i, t in deadlines)
    top = dict(RETRY)
    if stop_timeout:
        top["stop_timeout"] = stop_timeout
    escalate = f"\n    escalate_to = {value(escalate_to)};" if escalate_to else ""
    return ('timezone = "UTC";\n'
            f'language = "{language}";\n'
            'deadline_shift = "none";\n'
            'holidays = { calendar = "none"; };\n'
            # A send_time just passed: the start is on time for it, so the missed 10d reminder
            # goes out at once rather than at tomorrow's send_time.
            f'policy = {{ offsets = ["10d"]; send_time = "{daemon.just_passed("UTC")}"; '
            'working_days_only = false; };\n'
            + "".join(f"{k} = {value(v)};\n" for k, v in top.items())
            + "transports = {\n"
            + "".join(f"  {name} = {group(t)};\n" for name, t in transports.items())
            + "};\n"
            + (f'mail_via = "{mail_via}";\n' if mail_via else "")
            + "recipients = (\n"
            + ",\n".join("  " + group(r) for r in recipients)
            + "\n);\n"
            'commitments = (\n'
            '  { id = "c1"; title = "Test commitment";\n'
            f'    start = "{today - days(10)}"; term = "5y"; renewal = "none";\n'
            f'    participants = {value(participants)};{escalate}\n'
            f'    deadlines = ( {items} );\n'
            '  }\n);\n')


def reminder_id(today, who, deadline="soon"):
    return f"c1/deadline:{deadline}/0/{today + days(5)}/10d/{who}"


def escalation_id(row, to):
    """The id of the escalation to `to` of the failed reminder whose history row is row:
    COMMITMENT/escalation/CYCLE/MILESTONE/KIND:OFFSET:RECIPIENT:CHANNEL/TO, KIND as the reminder
    id spells it ("deadline:soon", where the ledger's kind column says "deadline")."""
    kind = row["id"].split("/")[1]
    return (f"{row['commitment']}/escalation/{row['cycle']}/{row['milestone']}/"
            f"{kind}:{row['offset']}:{row['recipient']}:{row['channel']}/{to}")


# --- checks -----------------------------------------------------------------------------------


def check_mail(paths, plain=False):
    """tests/integration/check-mail.py (strict; --plain for escalations and test messages)."""
    expect(paths, "no messages to check")
    p = subprocess.run([PYTHON, CHECK_MAIL, *(["--plain"] if plain else []), *paths],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0,
           f"check-mail.py{' --plain' if plain else ''}: exit {p.returncode}: "
           f"{(p.stdout + p.stderr).strip()[:2000]}")


def mail_text(msg):
    """The decoded text/plain of a message."""
    part = msg.get_body(("plain",))
    expect(part is not None, "no text/plain part")
    return part.get_content()


def by_id(rows):
    return {(r["id"], r["channel"]): r for r in rows}


def expect_one_each(records, what):
    """Every Message-ID (or Idempotency-Key) at the peer once; returns them as a set."""
    ids = [r["message_id"] for r in records]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    expect(not dupes, f"{what}: delivered more than once: {dupes}")
    return set(ids)


def expect_sent_rows_match_peer(rows, records, ids):
    """The ledger's sent rows for ids carry the relay's "250 ... queued as N" reply and the
    Message-ID the relay logged as message N."""
    at_peer = {r["seq"]: r for r in records}
    for rid in ids:
        row = by_id(rows).get((rid, "mail"))
        expect(row is not None, f"no history row for {rid}")
        expect_equal(row["state"], "sent", f"{rid}: state")
        m = re.fullmatch(r"250 .*queued as (\d+)", row.get("reply") or "")
        expect(m, f"{rid}: reply {row.get('reply')!r} is not the relay's 250 ... queued as N")
        record = at_peer.get(int(m[1]))
        expect(record is not None, f"{rid}: the relay has no message {m[1]}")
        expect_equal(row["message_id"], record["message_id"],
                     f"{rid}: history's Message-ID vs the relay's message {m[1]}")


# --- SMTP -------------------------------------------------------------------------------------


def smtp_case(d, today, relay, transport, participants=("alice", "bob"), **kwargs):
    recipients = [recipient(r) for r in ("alice", "bob", "boss")]
    d.write_config(config_text(today, {"relay": transport}, recipients, list(participants),
                               **kwargs))


def test_smtp_starttls_with_auth_delivers_parseable_mail_and_records_the_relays_reply():
    today = today_in("UTC")
    with Case("starttls") as d:
        relay = d.smtpd(mode="starttls", auth=(RELAY_USER, RELAY_PASSWORD))
        password = d.secret_file("relay-password", RELAY_PASSWORD + "\n")
        smtp_case(d, today, relay, smtp_transport(relay, password_file=password))
        d.start()
        wait_counts(d, "2 sent", sent=2, failed=0)
        records = relay.wait_records(2, d)
        expect_equal(len(records), 2, "messages at the relay")
        for rec in records:
            expect_equal(rec["tls"], True, f"message {rec['seq']}: tls")
            expect_equal(rec["auth"], RELAY_USER, f"message {rec['seq']}: auth user")
            expect_equal(rec["mail_from"], "noticed@test.example",
                         f"message {rec['seq']}: MAIL FROM")
        check_mail([relay.path(r) for r in records])
        wanted = {reminder_id(today, w): w for w in ("alice", "bob")}
        for rec in records:
            msg = parse_mail(relay.path(rec))
            rid = header(msg, "X-Noticed-Reminder")
            expect(rid in wanted, f"message {rec['seq']} is for {rid!r}")
            expect_equal(rec["rcpt_tos"], [f"{wanted[rid]}@test.example"], f"{rid}: RCPT TO")
            expect_equal(header(msg, "Message-ID"), rec["message_id"], f"{rid}: Message-ID")
        expect_one_each(records, "Message-IDs")
        expect_sent_rows_match_peer(d.rows(), records, wanted)


def test_smtps_implicit_tls_delivers():
    today = today_in("UTC")
    with Case("smtps") as d:
        relay = d.smtpd(mode="smtps", auth=(RELAY_USER, RELAY_PASSWORD))
        password = d.secret_file("relay-password", RELAY_PASSWORD)
        smtp_case(d, today, relay, smtp_transport(relay, scheme="smtps", password_file=password))
        d.start()
        wait_counts(d, "2 sent", sent=2, failed=0)
        records = relay.wait_records(2, d)
        expect_equal(sorted((r["tls"], r["auth"]) for r in records),
                     [(True, RELAY_USER)] * 2, "(tls, auth) of the messages at the relay")
        check_mail([relay.path(r) for r in records])
        expect_sent_rows_match_peer(d.rows(), records,
                                    [reminder_id(today, w) for w in ("alice", "bob")])


def test_smtp_wrong_password_fails_at_once_with_535_and_is_not_retried():
    today = today_in("UTC")
    with Case("bad-password") as d:
        relay = d.smtpd(mode="starttls", auth=(RELAY_USER, RELAY_PASSWORD))
        # A fence for "not retried": carol's webhook answers 500 twice, so its third attempt
        # comes at least 0.5 + 1 s after the start, later than any retry of the mail would.
        hook = d.webhookd(scripts=["/flaky=500,500,200"])
        password = d.secret_file("relay-password", "not the password\n")
        recipients = [recipient("alice"), recipient("bob"),
                      recipient("carol", mail=False, webhooks=["hook"])]
        d.write_config(config_text(today, {
            "relay": smtp_transport(relay, password_file=password),
            "hook": webhook_transport(hook, "/flaky")}, recipients, ["alice", "bob", "carol"]))
        d.start()
        wait_counts(d, "2 failed", failed=2)
        for who in ("alice", "bob"):
            m = wait_log(d, rf"^.*{re.escape(reminder_id(today, who))}: reminder to {who} by "
                            r"mail failed after 1 attempt: (.*)$", f"{who}: failed after 1 attempt")
            expect("535" in m[1], f"the failure's log line does not say 535: {m[0]!r}")
        wait_counts(d, "carol's webhook sent", sent=1)
        rows = by_id(d.rows())
        expect_equal(rows[(reminder_id(today, "carol"), "webhook:hook")]["attempts"], 3,
                     "attempts of carol's webhook (the fence)")
        for who in ("alice", "bob"):
            row = rows[(reminder_id(today, who), "mail")]
            expect_equal((row["state"], row["attempts"]), ("failed", 1),
                         f"{who}: (state, attempts) after the fence")
            expect((row["reply"] or "").startswith("535"), f"{who}: reply {row['reply']!r}")
        for who in ("alice", "bob"):
            retried = re.search(rf"^.*{re.escape(reminder_id(today, who))}: .* failed for now.*$",
                                d.stderr_text(), re.M)
            expect(not retried, f"{who}'s reminder was retried: {retried and retried[0]!r}")
        expect_equal(relay.records(), [], "messages at the relay")


NO_AUTH = "the server offered no AUTH; refusing to send without the configured login"
AUTH_AFTER_STARTTLS = (NO_AUTH + ' (it offers STARTTLS, which tls = "none" does not use: AUTH '
                       'may come only after it)')


def test_smtp_login_that_the_relay_does_not_ask_for_fails_and_delivers_nothing():
    """A username is configured; the relay takes mail without AUTH: curl would skip the login."""
    today = today_in("UTC")
    cases = {
        "no AUTH offered": ({}, NO_AUTH),
        "AUTH only after STARTTLS, on plaintext": (
            {"mode": "starttls", "auth": (RELAY_USER, RELAY_PASSWORD), "extra": ["--optional"]},
            AUTH_AFTER_STARTTLS),
    }
    for what, (relay_options, reply) in cases.items():
        with Case("no-auth") as d:
            relay = d.smtpd(**relay_options)
            password = d.secret_file("relay-password", RELAY_PASSWORD)
            smtp_case(d, today, relay, plain_smtp_transport(relay, password_file=password))
            d.start()
            wait_counts(d, f"{what}: 2 failed", failed=2, sent=0)
            rows = by_id(d.rows())
            for who in ("alice", "bob"):
                rid = reminder_id(today, who)
                m = wait_log(d, rf"^.*{re.escape(rid)}: reminder to {who} by mail failed after "
                                r"1 attempt: (.*)$", f"{what}: {who} failed after 1 attempt")
                expect_equal(m[1], reply, f"{what}: {who}'s log line")
                row = rows[(rid, "mail")]
                expect_equal((row["state"], row["attempts"], row["reply"]),
                             ("failed", 1, reply), f"{what}: {who}'s (state, attempts, reply)")
            expect_equal(relay.records(), [], f"{what}: messages at the relay")


def test_smtp_451_then_accept_delivers_each_reminder_once_on_the_second_attempt():
    today = today_in("UTC")
    with Case("451") as d:
        relay = d.smtpd(mode="starttls", auth=(RELAY_USER, RELAY_PASSWORD),
                        extra=["--fail-first", "2:451 4.3.0 try again later"])
        password = d.secret_file("relay-password", RELAY_PASSWORD)
        smtp_case(d, today, relay, smtp_transport(relay, password_file=password))
        d.start()
        wait_counts(d, "2 sent", sent=2, failed=0)
        records = relay.wait_records(2, d)
        ids = expect_one_each(records, "Message-IDs")
        expect_equal(len(records), 2, "messages at the relay")
        rows = d.rows()
        wanted = [reminder_id(today, w) for w in ("alice", "bob")]
        expect_sent_rows_match_peer(rows, records, wanted)
        expect_equal(ids, {by_id(rows)[(r, "mail")]["message_id"] for r in wanted},
                     "Message-IDs at the relay vs in history")
        for rid in wanted:
            expect_equal(by_id(rows)[(rid, "mail")]["attempts"], 2, f"{rid}: attempts")
            line = re.search(rf"{re.escape(rid)}: reminder to \w+ by mail failed for now "
                             r"\(attempt 1\): (.*); trying again at ", d.stderr_text())
            expect(line and line[1].startswith("451"),
                   f"{rid}: no 'failed for now (attempt 1): 451 ...' line{d.stderr_tail()}")


def test_smtp_550_for_one_address_fails_that_reminder_and_escalates_through_the_same_relay():
    today = today_in("UTC")
    with Case("550") as d:
        relay = d.smtpd(mode="starttls", auth=(RELAY_USER, RELAY_PASSWORD),
                        extra=["--reject-rcpt", "alice@test.example:550 5.1.1 no such user"])
        password = d.secret_file("relay-password", RELAY_PASSWORD)
        smtp_case(d, today, relay, smtp_transport(relay, password_file=password),
                  escalate_to=["boss"])
        d.start()
        wait_counts(d, "bob's reminder and boss's escalation sent, alice's failed", sent=2,
                    failed=1)
        records = relay.wait_records(2, d)
        expect_equal(sorted(tuple(r["rcpt_tos"]) for r in records),
                     [("bob@test.example",), ("boss@test.example",)], "RCPT TO at the relay")
        expect_one_each(records, "Message-IDs")
        rows = by_id(d.rows())
        failed = rows[(reminder_id(today, "alice"), "mail")]
        expect_equal((failed["state"], failed["attempts"]), ("failed", 1),
                     "alice's reminder: (state, attempts)")
        expect((failed["reply"] or "").startswith("550"), f"alice's reply: {failed['reply']!r}")
        expect_equal(rows[(reminder_id(today, "bob"), "mail")]["state"], "sent",
                     "bob's reminder: state")
        esc_id = escalation_id(failed, "boss")
        esc = rows.get((esc_id, "mail"))
        expect(esc is not None, f"no history row {esc_id}: {sorted(rows)}")
        expect_equal((esc["kind"], esc["state"]), ("escalation", "sent"), "escalation row")
        boss = next(r for r in records if r["rcpt_tos"] == ["boss@test.example"])
        check_mail([relay.path(boss)], plain=True)
        msg = parse_mail(relay.path(boss))
        expect_equal(header(msg, "X-Noticed-Reminder"), esc_id, "the escalation's id")
        expect(header(msg, "Subject").startswith("Not delivered: reminder to Alice"),
               f"escalation subject: {header(msg, 'Subject')!r}")
        text = mail_text(msg)
        for needle in ("Alice", reminder_id(today, "alice"), "550 5.1.1 no such user"):
            expect(needle in text, f"the escalation does not mention {needle!r}:\n{text}")
        wait_log(d, rf"{re.escape(reminder_id(today, 'alice'))}: escalated to boss",
                 "escalated to boss")


def test_escalations_of_two_failed_deadlines_on_one_day_each_name_their_deadline():
    today = today_in("UTC")
    with Case("550-two") as d:
        relay = d.smtpd(extra=["--reject-rcpt", "alice@test.example:550 5.1.1 no such user"])
        titles = {"soon": "Deadline soon", "also": "Deadline also"}
        d.write_config(config_text(today, {"relay": plain_smtp_transport(relay)},
                                   [recipient("alice"), recipient("boss")], ["alice"],
                                   escalate_to=["boss"], deadlines=tuple(titles.items())))
        d.start()
        wait_counts(d, "alice's two reminders failed", failed=2)
        # An escalation is queued with the failure it reports: wait until none is left waiting.
        rows = wait_until(lambda: (lambda r: r if not any(
            x["kind"] == "escalation" and x["state"] in ("queued", "pending") for x in r)
            else None)(d.rows()), "escalations settled", d=d)
        failed = [r for r in rows if r["recipient"] == "alice"]
        expect_equal(sorted((r["id"], r["state"]) for r in failed),
                     sorted((reminder_id(today, "alice", k), "failed") for k in titles),
                     "alice's reminders")
        problems = []
        escalations = [r for r in rows if r["kind"] == "escalation"]
        if len({r["id"] for r in escalations}) != 2:
            problems.append(f"{len(escalations)} escalation row(s) for 2 failed reminders: "
                            f"{[r['id'] for r in escalations]}")
        mails = [m for m in relay.records() if m["rcpt_tos"] == ["boss@test.example"]]
        if len(mails) != 2:
            problems.append(f"{len(mails)} escalation mail(s) at the relay for 2 failed "
                            "reminders")
        for m in mails:
            text = mail_text(parse_mail(relay.path(m)))
            about = [k for k in titles if reminder_id(today, "alice", k) in text]
            if len(about) != 1:
                problems.append(f"message {m['seq']} names {len(about)} failed reminders")
            elif titles[about[0]] not in text:
                problems.append(f"the escalation of {reminder_id(today, 'alice', about[0])} "
                                f"does not name its deadline {titles[about[0]]!r}: "
                                f"{text.splitlines()[0]!r}")
        expect(not problems, "; ".join(problems))


def test_smtp_relay_down_then_up_delivers_once():
    today = today_in("UTC")
    with Case("down-up") as d:
        port = free_port()
        relay_url = f"smtp://127.0.0.1:{port}"
        recipients = [recipient(r) for r in ("alice", "bob")]
        d.write_config(config_text(today, {"relay": {"url": relay_url, "from": FROM,
                                                     "tls": "none"}},
                                   recipients, ["alice", "bob"]))
        d.start()
        wait_log(d, r"failed for now \(attempt 1\)", "'failed for now (attempt 1)'")
        relay = d.smtpd(port=port)
        wait_counts(d, "2 sent", timeout=TIMEOUT + 5, sent=2, failed=0)
        records = relay.wait_records(2, d)
        expect_equal(len(records), 2, "messages at the relay")
        expect_one_each(records, "Message-IDs")
        expect_sent_rows_match_peer(d.rows(), records,
                                    [reminder_id(today, w) for w in ("alice", "bob")])


def test_smtp_pending_retries_survive_a_restart_and_deliver_once():
    today = today_in("UTC")
    with Case("restart-retry") as d:
        refusing = d.smtpd("refusing", extra=["--reject-all", "451 4.3.0 not now"])
        port = refusing.port
        recipients = [recipient(r) for r in ("alice", "bob")]
        d.write_config(config_text(today, {"relay": plain_smtp_transport(refusing)},
                                   recipients, ["alice", "bob"], stop_timeout="2s"))
        d.start()
        wanted = [reminder_id(today, w) for w in ("alice", "bob")]

        def waiting():
            rows = by_id(d.rows())
            got = [rows.get((rid, "mail")) for rid in wanted]
            return all(r and r["state"] == "queued" and r["attempts"] >= 1 for r in got) and got

        wait_until(waiting, "both reminders queued after a refused attempt", d=d)
        wait_counts(d, "2 queued", queued=2, sent=0, failed=0)
        expect_equal(d.stop(), 0, "exit status after SIGTERM")
        rows = by_id(d.rows())
        for rid in wanted:
            expect_equal(rows[(rid, "mail")]["state"], "queued", f"{rid}: state after the stop")
        refusing.stop()
        expect_equal(refusing.records(), [], "messages the refusing relay stored")
        relay = d.smtpd("accepting", port=port)
        d.start()
        wait_counts(d, "2 sent after the restart", sent=2, failed=0, queued=0)
        records = relay.wait_records(2, d)
        expect_equal(len(records), 2, "messages at the relay")
        expect_one_each(records, "Message-IDs")
        expect_sent_rows_match_peer(d.rows(), records, wanted)


def test_a_later_reminder_supersedes_an_earlier_one_still_waiting():
    today = today_in("UTC")
    with Case("supersede") as d:
        refusing = d.smtpd("refusing", extra=["--reject-all", "451 4.3.0 not now"])
        port = refusing.port
        text = config_text(today, {"relay": plain_smtp_transport(refusing)},
                           [recipient("alice")], ["alice"], stop_timeout="2s")
        d.write_config(text)
        d.start()
        first = reminder_id(today, "alice")
        wait_until(lambda: (lambda r: r and r["state"] == "queued" and r["attempts"] >= 1)(
                       by_id(d.rows()).get((first, "mail"))),
                   "the 10d reminder waiting after a refused attempt", d=d)
        # An 8d reminder is added; it is due too (3 days ago) and newer: the 10d one, still
        # waiting, is skipped rather than sent beside it when the relay comes back.
        d.write_config(text.replace('offsets = ["10d"]', 'offsets = ["10d", "8d"]'))
        d.signal(signal.SIGHUP)
        d.wait_for("X_NOTICED_PASS", "2")
        second = first.replace("/10d/", "/8d/")
        rows = by_id(d.rows())
        expect_equal(rows[(first, "mail")]["state"], "skipped", "the 10d reminder's state")
        expect("superseded" in (rows[(first, "mail")]["reply"] or ""),
                f"the 10d reminder's reason: {rows[(first, 'mail')]['reply']!r}")
        expect_equal(rows[(second, "mail")]["state"], "queued", "the 8d reminder's state")
        expect_equal(d.stop(), 0, "exit status after SIGTERM")
        refusing.stop()
        relay = d.smtpd("accepting", port=port)
        d.start()
        wait_counts(d, "1 sent after the restart", sent=1, failed=0)
        records = relay.wait_records(1, d)
        expect_equal(len(records), 1, "messages at the relay")
        rows = by_id(d.rows())
        expect_equal(rows[(second, "mail")]["state"], "sent", "the 8d reminder's state")
        expect_equal(rows[(first, "mail")]["state"], "skipped", "the 10d reminder's state")


def test_kill_9_in_a_burst_of_200_loses_no_reminder():
    today = today_in("UTC")
    n = 200
    with Case("kill-9") as d:
        relay = d.smtpd()
        names = [f"r{i:03d}" for i in range(n)]
        d.write_config(config_text(today, {"relay": plain_smtp_transport(relay)},
                                   [recipient(r) for r in names], names))
        d.start(wait_ready=False)
        logged = wait_until(lambda: (lambda c: c if c >= 30 else None)(relay.count()),
                            "30 messages at the relay", d=d, interval=0.002)
        d.proc.kill()
        d.proc.wait()
        before = relay.count()
        expect(before < n, f"all {n} messages were delivered before the kill -9 ({logged} when "
                           "it was decided): the burst was too fast to interrupt")
        d.start()
        ours = lambda rows: [r for r in rows if r["id"].startswith("c1/deadline:soon/")]
        expect_equal(len(ours(d.rows())), n, "reminder rows in history after the restart")
        # The relay logs a message before its 250, and a row is sent only after the 250: once
        # every row is sent, every Message-ID must be at the relay.
        rows = wait_until(lambda: (lambda r: r if all(x["state"] == "sent" for x in r) else None)(
                              ours(d.rows())), f"{n} sent rows in history", timeout=30, d=d)
        wanted = {r["message_id"] for r in rows}
        expect_equal(len(wanted), n, "distinct Message-IDs of the sent rows")
        records = relay.records()
        ids = [r["message_id"] for r in records]
        lost = wanted - set(ids)
        expect(not lost, f"{len(lost)} reminder(s) lost: not at the relay: {sorted(lost)[:5]}")
        expect(set(ids) == wanted, f"Message-IDs at the relay that history does not know: "
                                   f"{sorted(set(ids) - wanted)[:5]}")
        print(f"# kill -9 after {before} of {n} messages; {len(ids) - n} duplicate(s) after the "
              f"restart; {d.stderr_text().count('may arrive twice')} 'may arrive twice' line(s)",
              flush=True)


# --- webhooks ---------------------------------------------------------------------------------


BODY_KEYS = {"type", "reminder_id", "commitment", "title", "kind", "cycle", "milestone",
             "days_left", "recipient", "recipient_name", "language", "cost", "subject", "text"}


def post(url, body, headers):
    """POSTs to the test's own receiver; returns the HTTP status."""
    context = ssl.create_default_context(cafile=cert()[0])
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def test_webhook_with_secret_is_signed_verified_and_carries_the_documented_body():
    today = today_in("UTC")
    with Case("hook-secret") as d:
        hook = d.webhookd(tls=True, secret=HOOK_SECRET)
        secret = d.secret_file("hook-secret", HOOK_SECRET + "\n")
        recipients = [recipient("alice", mail=False, webhooks=["hook"]),
                      recipient("bob", mail=False, webhooks=["hook"], language="nl")]
        d.write_config(config_text(today, {"hook": webhook_transport(hook, "/hook",
                                                                     secret_file=secret)},
                                   recipients, ["alice", "bob"], mail_via=None))
        started = time.time()
        d.start()
        wait_counts(d, "2 sent", sent=2, failed=0)
        records = hook.wait_records(2, d)
        ended = time.time()
        expect_equal(len(records), 2, "requests at the receiver")
        languages = {"alice": "en", "bob": "nl"}
        for rec in records:
            body = rec["body"]
            expect(isinstance(body, dict), f"body is not a JSON object: {rec}")
            who = body.get("recipient")
            expect(who in languages, f"body's recipient {who!r}")
            rid = reminder_id(today, who)
            expect_equal((rec["method"], rec["path"], rec["status"], rec["verified"]),
                         ("POST", "/hook", 200, True), f"{who}: method, path, status, verified")
            expect_equal(rec["content_type"], "application/json", f"{who}: Content-Type")
            expect(re.fullmatch(r"noticed/\S+", rec["user_agent"] or ""),
                   f"{who}: User-Agent {rec['user_agent']!r}")
            expect_equal(rec["idempotency_key"], rid, f"{who}: Idempotency-Key")
            expect(isinstance(rec["timestamp"], int)
                   and started - 1 <= rec["timestamp"] <= ended + 1,
                   f"{who}: X-Noticed-Timestamp {rec['timestamp']!r} is not the time of sending")
            missing = BODY_KEYS - set(body)
            expect(not missing, f"{who}: body lacks {sorted(missing)}: {body}")
            for key, want in (("type", "reminder"), ("reminder_id", rid), ("commitment", "c1"),
                              ("kind", "deadline:soon"), ("milestone", str(today + days(5))),
                              ("days_left", 5), ("language", languages[who]),
                              ("recipient_name", who.title()), ("cycle", 0)):
                expect_equal(body[key], want, f"{who}: body[{key!r}]")
            expect(isinstance(body["text"], str) and "Deadline soon" in body["text"],
                   f"{who}: body text {body['text']!r}")
        rows = by_id(d.rows())
        for who in languages:
            expect_equal(rows[(reminder_id(today, who), "webhook:hook")]["state"], "sent",
                         f"{who}: state")

        # Replay alice's request: the body as noticed sent it (compact JSON in its key order,
        # the same number of bytes the receiver counted), signed with the secret at the logged
        # timestamp (HMAC is deterministic: the daemon's signature).  The receiver takes it;
        # with a tampered body and the same signature it answers 401.
        rec = next(r for r in records if r["body"]["recipient"] == "alice")
        raw = json.dumps(rec["body"], separators=(",", ":"), ensure_ascii=False).encode()
        expect_equal(len(raw), rec["size"], "bytes of the reconstructed body vs the logged size")
        ts = str(rec["timestamp"])
        signature = "sha256=" + hmac.new(HOOK_SECRET.encode(), ts.encode() + b"." + raw,
                                         hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Noticed-Timestamp": ts,
                   "X-Noticed-Signature": signature}
        expect_equal(post(hook.url("/replay"), raw, headers), 200, "the replayed request")
        tampered = raw.replace(b'"days_left":5', b'"days_left":50')
        expect(tampered != raw, "nothing to tamper with")
        expect_equal(post(hook.url("/replay"), tampered, headers), 401,
                     "the replayed request with a tampered body")
        replays = [r for r in hook.records() if r["path"] == "/replay"]
        expect_equal([(r["status"], r["verified"]) for r in replays],
                     [(200, True), (401, False)], "the receiver's log of the replays")


def webhook_case(d, today, transport, **kwargs):
    """Alice, reached by webhook only, through transport "hook"."""
    recipients = [recipient("alice", mail=False, webhooks=["hook"])]
    d.write_config(config_text(today, {"hook": transport}, recipients, ["alice"], mail_via=None,
                               **kwargs))


def test_webhook_500_then_200_is_sent_once_with_one_idempotency_key():
    today = today_in("UTC")
    with Case("hook-flaky") as d:
        hook = d.webhookd(scripts=["/flaky=500,200"])
        webhook_case(d, today, webhook_transport(hook, "/flaky"))
        d.start()
        wait_counts(d, "1 sent", sent=1, failed=0)
        records = hook.wait_records(2, d)
        rid = reminder_id(today, "alice")
        expect_equal([(r["status"], r["idempotency_key"]) for r in records],
                     [(500, rid), (200, rid)], "(status, Idempotency-Key) of the requests")
        row = by_id(d.rows())[(rid, "webhook:hook")]
        expect_equal((row["state"], row["attempts"]), ("sent", 2), "(state, attempts)")
        expect("200" in (row["reply"] or ""), f"reply {row['reply']!r}")
        wait_log(d, rf"{re.escape(rid)}: reminder to alice by webhook:hook failed for now "
                    r"\(attempt 1\): HTTP/1\.1 500", "failed for now with 500")


def test_webhook_410_fails_at_once_and_escalates_by_mail():
    today = today_in("UTC")
    with Case("hook-gone") as d:
        hook = d.webhookd(scripts=["/gone=410"])
        relay = d.smtpd()
        recipients = [recipient("alice", mail=False, webhooks=["hook"]), recipient("boss")]
        d.write_config(config_text(today, {"hook": webhook_transport(hook, "/gone"),
                                           "relay": plain_smtp_transport(relay)},
                                   recipients, ["alice"], escalate_to=["boss"]))
        d.start()
        wait_counts(d, "alice's failed, boss's escalation sent", sent=1, failed=1)
        rid = reminder_id(today, "alice")
        records = hook.records()
        expect_equal([(r["status"], r["idempotency_key"]) for r in records], [(410, rid)],
                     "requests at the receiver")
        rows = by_id(d.rows())
        row = rows[(rid, "webhook:hook")]
        expect_equal((row["state"], row["attempts"]), ("failed", 1), "(state, attempts)")
        expect("410" in (row["reply"] or ""), f"reply {row['reply']!r}")
        mails = relay.wait_records(1, d)
        expect_equal([m["rcpt_tos"] for m in mails], [["boss@test.example"]],
                     "RCPT TO of the mails at the relay")
        check_mail([relay.path(mails[0])], plain=True)
        msg = parse_mail(relay.path(mails[0]))
        esc_id = escalation_id(row, "boss")
        expect_equal(header(msg, "X-Noticed-Reminder"), esc_id, "the escalation's id")
        expect_equal(rows[(esc_id, "mail")]["state"], "sent", "the escalation's state")
        text = mail_text(msg)
        for needle in ("Alice", rid, "410"):
            expect(needle in text, f"the escalation does not mention {needle!r}:\n{text}")


def test_webhook_slack_format_body_is_only_text():
    today = today_in("UTC")
    with Case("hook-slack") as d:
        hook = d.webhookd()
        webhook_case(d, today, webhook_transport(hook, "/slack", format="slack"))
        d.start()
        wait_counts(d, "1 sent", sent=1, failed=0)
        records = hook.wait_records(1, d)
        expect_equal(len(records), 1, "requests at the receiver")
        body = records[0]["body"]
        expect(isinstance(body, dict) and list(body) == ["text"],
               f"slack body is not exactly {{\"text\": ...}}: {body!r}")
        expect(isinstance(body["text"], str) and "Deadline soon" in body["text"],
               f"slack text: {body['text']!r}")
        expect_equal(records[0]["content_type"], "application/json", "Content-Type")


class SilentListener:
    """A TCP listener that accepts and never answers: a receiver that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []

    def wait_request(self, timeout=TIMEOUT):
        """Accepts a connection and reads what comes until the request's headers are in."""
        deadline = time.monotonic() + timeout
        if not select.select([self.sock], [], [], timeout)[0]:
            raise Failure(f"no connection to the silent listener within {timeout:.0f} s")
        conn, _ = self.sock.accept()
        self.conns.append(conn)
        data = b""
        while b"\r\n\r\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([conn], [], [], left)[0]:
                raise Failure(f"no request headers within {timeout:.0f} s: {data!r}")
            chunk = conn.recv(65536)
            if not chunk:
                raise Failure(f"the client closed after {data!r}")
            data += chunk
        return data

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()


def test_sigterm_with_a_webhook_in_flight_exits_0_and_sends_it_after_a_restart():
    today = today_in("UTC")
    with Case("stop-in-flight") as d:
        silent = SilentListener()
        try:
            port = silent.port
            webhook_case(d, today, {"url": f"http://127.0.0.1:{port}/hook"}, stop_timeout="1s")
            d.start()
            request = silent.wait_request()
            key = re.search(rb"(?im)^Idempotency-Key: (.*?)\r$", request)
            rid = reminder_id(today, "alice")
            expect(key and key[1].decode() == rid, f"the hanging request's Idempotency-Key: "
                                                   f"{request[:400]!r}")
            expect(counts(d.last_status())["in_flight"] == 1,
                   f"STATUS does not say 1 in flight: {d.last_status()!r}")
            stop_at = time.monotonic()
            d.signal(signal.SIGTERM)
            d.wait_for("STOPPING", "1")
            status = d.wait_exit(timeout=5)
            # The stderr tail shows why (under SANITIZE=1, LeakSanitizer's report).
            expect(status == 0, f"exit status after SIGTERM: {status}, wanted 0"
                                f"{d.stderr_tail(60)}")
            took = time.monotonic() - stop_at
            expect(took < 4, f"the stop took {took:.1f} s with stop_timeout 1s")
            row = by_id(d.rows())[(rid, "webhook:hook")]
            expect(row["state"] in ("queued", "pending"),
                   f"state after the stop: {row['state']!r} (want queued or pending)")
        finally:
            silent.close()
        hook = d.webhookd(port=port)
        d.start()
        wait_counts(d, "1 sent after the restart", sent=1, failed=0)
        records = hook.wait_records(1, d)
        expect_equal([(r["status"], r["idempotency_key"]) for r in records], [(200, rid)],
                     "requests at the receiver after the restart")
        expect_equal(by_id(d.rows())[(rid, "webhook:hook")]["state"], "sent", "state")
        expect("may arrive twice" in d.stderr_text(),
               f"the restart does not say the interrupted request may arrive twice"
               f"{d.stderr_tail()}")


# --- noticectl test-send ----------------------------------------------------------------------


def test_noticectl_test_send_reports_each_channel_and_exits_69_or_65_on_failure():
    today = today_in("UTC")
    with Case("test-send") as d:
        relay = d.smtpd(mode="starttls", auth=(RELAY_USER, RELAY_PASSWORD))
        hook = d.webhookd(scripts=["/gone=410"])
        password = d.secret_file("relay-password", RELAY_PASSWORD)
        recipients = [recipient("alice", webhooks=["hook"])]

        def configure(path):
            d.write_config(config_text(today, {
                "relay": smtp_transport(relay, password_file=password),
                "hook": webhook_transport(hook, path)}, recipients, ["alice"]))

        configure("/ok")
        p = d.run_noticectl("test-send", "alice")
        expect_equal(p.returncode, 0, f"exit status against working peers ({p.stdout!r}, "
                                      f"{p.stderr!r})")
        lines = p.stdout.splitlines()
        mail = re.compile(rf"mail via relay \({re.escape(relay.url())}\): sent: "
                          r"250 .*queued as \d+")
        hook_ok = re.compile(rf"webhook:hook via hook \({re.escape(hook.url('/ok'))}\): sent: "
                             r"HTTP/1\.1 200.*")
        expect(any(mail.fullmatch(x) for x in lines), f"no 'mail ... sent' line: {lines}")
        expect(any(hook_ok.fullmatch(x) for x in lines), f"no 'webhook ... sent' line: {lines}")
        mails = relay.wait_records(1)
        expect_equal([m["rcpt_tos"] for m in mails], [["alice@test.example"]], "test mail RCPT TO")
        check_mail([relay.path(mails[0])], plain=True)
        expect_equal([(r["path"], r["status"]) for r in hook.records()], [("/ok", 200)],
                     "requests at the receiver")

        configure("/gone")
        p = d.run_noticectl("test-send", "alice")
        expect_equal(p.returncode, EX_UNAVAILABLE, f"exit status with a 410 receiver "
                                                   f"({p.stdout!r})")
        lines = p.stdout.splitlines()
        expect(any(mail.fullmatch(x) for x in lines), f"no 'mail ... sent' line: {lines}")
        gone = re.compile(rf"webhook:hook via hook \({re.escape(hook.url('/gone'))}\): FAILED: "
                          r"HTTP/1\.1 410.*")
        expect(any(gone.fullmatch(x) for x in lines), f"no 'webhook ... FAILED' line: {lines}")

        p = d.run_noticectl("test-send", "nobody")
        expect_equal(p.returncode, EX_DATAERR, f"exit status for an unknown recipient "
                                               f"({p.stderr!r})")
        expect("nobody" in p.stderr, f"stderr does not name the unknown recipient: {p.stderr!r}")
        expect_equal(len(relay.records()), 2, "test mails at the relay (one per good run)")


def test_noticectl_test_send_uses_the_configured_login_or_fails():
    today = today_in("UTC")
    with Case("test-send-login") as d:
        lax = d.smtpd("lax")  # takes mail without AUTH, and offers none
        strict = d.smtpd("strict", auth=(RELAY_USER, RELAY_PASSWORD))  # offers AUTH at once
        password = d.secret_file("relay-password", RELAY_PASSWORD)
        for relay, status, outcome in ((lax, EX_UNAVAILABLE, f"FAILED: {NO_AUTH}"),
                                       (strict, 0, "sent: 250 .*queued as 1")):
            d.write_config(config_text(today, {
                "relay": plain_smtp_transport(relay, password_file=password)},
                [recipient("alice")], ["alice"]))
            p = d.run_noticectl("test-send", "alice")
            expect_equal(p.returncode, status, f"test-send through {relay.name}: exit status "
                                               f"({p.stdout!r}, {p.stderr!r})")
            line = rf"mail via relay \({re.escape(relay.url())}\): {outcome}"
            expect(any(re.fullmatch(line, x) for x in p.stdout.splitlines()),
                   f"test-send through {relay.name}: no line {line!r}: {p.stdout!r}")
        expect_equal(lax.records(), [], "test mails at the relay that asks for no login")
        expect_equal([r["auth"] for r in strict.records()], [RELAY_USER],
                     "the login of the test mail at the relay that asks for one")


TESTS = [
    test_smtp_starttls_with_auth_delivers_parseable_mail_and_records_the_relays_reply,
    test_smtps_implicit_tls_delivers,
    test_smtp_wrong_password_fails_at_once_with_535_and_is_not_retried,
    test_smtp_login_that_the_relay_does_not_ask_for_fails_and_delivers_nothing,
    test_smtp_451_then_accept_delivers_each_reminder_once_on_the_second_attempt,
    test_smtp_550_for_one_address_fails_that_reminder_and_escalates_through_the_same_relay,
    test_escalations_of_two_failed_deadlines_on_one_day_each_name_their_deadline,
    test_smtp_relay_down_then_up_delivers_once,
    test_smtp_pending_retries_survive_a_restart_and_deliver_once,
    test_a_later_reminder_supersedes_an_earlier_one_still_waiting,
    test_kill_9_in_a_burst_of_200_loses_no_reminder,
    test_webhook_with_secret_is_signed_verified_and_carries_the_documented_body,
    test_webhook_500_then_200_is_sent_once_with_one_idempotency_key,
    test_webhook_410_fails_at_once_and_escalates_by_mail,
    test_webhook_slack_format_body_is_only_text,
    test_sigterm_with_a_webhook_in_flight_exits_0_and_sends_it_after_a_restart,
    test_noticectl_test_send_reports_each_channel_and_exits_69_or_65_on_failure,
    test_noticectl_test_send_uses_the_configured_login_or_fails,
]


def main(argv):
    try:
        return daemon.run_tests("delivery", TESTS, argv)
    finally:
        remove_cert()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
