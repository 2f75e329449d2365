#!/usr/bin/python3
"""noticed as systemd runs it: a real NOTIFY_SOCKET, a state directory, a Maildir, signals.

Each test writes a small config whose dates are relative to today (the clock is real; there is
no fake one), starts `noticed --foreground` the way a Type=notify unit does, and synchronises on
the daemon's own notify datagrams (READY=1, X_NOTICED_PASS=<n>, RELOADING=1, STOPPING=1), never
on sleeps.  The only waiting for the clock is near midnight, so that "today" cannot change under
a test, and for a reminder that is due a few seconds ahead.

  NOTICED=build/noticed NOTICECTL=build/noticectl /usr/bin/python3 tests/integration/daemon.py [NAME...]

Prints "ok NAME" or "FAIL NAME: why" per test (details on stderr) and a last line
"daemon: N passed, M failed"; exits 1 when any failed.  NOTICED_KEEP_TMP=1 keeps the temporary
directories of failed tests.  Standard library and python3-icalendar only.
"""

import datetime as dt
import email
import email.policy
import json
import math
import os
import re
import select
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from zoneinfo import ZoneInfo

import icalendar

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def _binary(variable, default):
    path = os.environ.get(variable) or os.path.join(TOP, default)
    return path if os.path.isabs(path) else os.path.join(TOP, path)


NOTICED = _binary("NOTICED", "build/noticed")
NOTICECTL = _binary("NOTICECTL", "build/noticectl")
CHECK_MAIL = os.path.join(HERE, "check-mail.py")
PYTHON = "/usr/bin/python3"

# How long one daemon event (start-up, a pass, a reload, a stop) may take before a test fails.
TIMEOUT = 10.0
# How close to local midnight a test may start: "today" must hold for the whole test.
MIDNIGHT_MARGIN = 30.0
EX_CONFIG = 78


class Skip(Exception):
    """The test cannot run here (a missing privilege); reported, never counted as passed."""


class Failure(Exception):
    """An assertion about the daemon did not hold."""


def expect(condition, message):
    if not condition:
        raise Failure(message)


def expect_equal(actual, wanted, what):
    if actual != wanted:
        raise Failure(f"{what}: got {actual!r}, wanted {wanted!r}")


# --- time and dates --------------------------------------------------------------------------


def today_in(tz):
    """Today's local date in tz, after waiting out the last MIDNIGHT_MARGIN seconds of a day."""
    zone = ZoneInfo(tz)
    now = dt.datetime.now(zone)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), zone)
    left = midnight.timestamp() - now.timestamp()
    if left < MIDNIGHT_MARGIN:
        time.sleep(left + 1)  # waiting for the clock, not for the daemon
        now = dt.datetime.now(zone)
    return now.date()


def days(n):
    return dt.timedelta(days=n)


def next_working_day(d):
    """With holidays calendar "none", only weekends are not working days."""
    d += days(1)
    while d.weekday() >= 5:
        d += days(1)
    return d


def due_in_seconds(tz, today, seconds):
    """An instant a few whole seconds ahead on today's date (today_in() left MIDNIGHT_MARGIN
    seconds of it): (unix time, "HH:MM:SS" in tz)."""
    due = math.ceil(time.time()) + seconds
    local = dt.datetime.fromtimestamp(due, ZoneInfo(tz))
    expect(local.date() == today, "the due instant fell on another day despite the margin")
    return due, local.strftime("%H:%M:%S")


def just_passed(tz, seconds=2):
    """"HH:MM:SS" in tz a few seconds ago: as send_time, a start now is within that send_time's
    on-time window (an hour), so a reminder missed days ago goes out at once instead of waiting
    for tomorrow's send_time."""
    return dt.datetime.fromtimestamp(math.floor(time.time()) - seconds,
                                     ZoneInfo(tz)).strftime("%H:%M:%S")


def parse_rfc3339(s):
    return dt.datetime.fromisoformat(s).timestamp()


# --- configs ----------------------------------------------------------------------------------

RECIPIENTS = ("alice", "bob", "boss")


def config_text(maildir, commitment, *, tz="UTC", offsets=("0d",), send_time="09:00"):
    """A whole config: three recipients, one maildir transport, one commitment; weekends are the
    only non-working days and nothing is moved off them."""
    recipients = ",\n".join(
        f'  {{ id = "{r}"; name = "{r.title()}"; mail = ["{r}@test.example"]; }}'
        for r in RECIPIENTS)
    return (f'timezone = "{tz}";\n'
            'deadline_shift = "none";\n'
            'holidays = { calendar = "none"; };\n'
            f'policy = {{ offsets = [{", ".join(json.dumps(o) for o in offsets)}];\n'
            f'           send_time = "{send_time}"; working_days_only = false; }};\n'
            'transports = {\n'
            f'  outbox = {{ url = "maildir:{maildir}"; from = "Noticed test <noticed@test.example>"; }};\n'
            '};\n'
            'mail_via = "outbox";\n'
            f'recipients = (\n{recipients}\n);\n'
            f'commitments = (\n{commitment}\n);\n')


def deadlines_commitment(today, deadlines, participants=("alice", "bob")):
    """Commitment c1 with one-off deadlines {id: date}; its own term ends years ahead."""
    items = ",\n".join(f'      {{ id = "{i}"; date = "{d}"; title = "Deadline {i}"; }}'
                       for i, d in deadlines.items())
    return ('  { id = "c1"; title = "Test commitment";\n'
            f'    start = "{today - days(10)}"; term = "5y"; renewal = "none";\n'
            f'    participants = [{", ".join(json.dumps(p) for p in participants)}];\n'
            f'    deadlines = (\n{items}\n    );\n'
            '  }')


def decision_commitment(decision, *, decision_lead_days=0, participants=("alice", "bob"),
                        escalate_to=()):
    """Commitment c1 of one 10-day term whose decision milestone falls on `decision`: notice 1d
    puts the notice deadline on start + 8, decision_lead before it the decision."""
    notice = decision + days(decision_lead_days)
    lead = f' decision_lead = "{decision_lead_days}d";' if decision_lead_days else ""
    escalate = (f'\n    escalate_to = [{", ".join(json.dumps(e) for e in escalate_to)}];'
                if escalate_to else "")
    return ('  { id = "c1"; title = "Test commitment";\n'
            f'    start = "{notice - days(8)}"; term = "10d"; renewal = "none"; notice = "1d";{lead}\n'
            f'    participants = [{", ".join(json.dumps(p) for p in participants)}];{escalate}\n'
            '  }')


# --- mail -------------------------------------------------------------------------------------


def parse_mail(path):
    """One message under email.policy.strict, its text/calendar parts under icalendar (what
    check-mail.py checks too); returns the EmailMessage."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        msg = email.message_from_bytes(data, policy=email.policy.strict)
        for part in msg.walk():
            if part.get_content_type() == "text/calendar":
                icalendar.Calendar.from_ical(part.get_content())
    except Exception as e:
        raise Failure(f"{os.path.basename(path)} does not parse: {type(e).__name__}: {e}")
    return msg


def check_mail_tool(paths):
    """Runs tests/integration/check-mail.py on the messages when it exists."""
    if not paths or not os.path.exists(CHECK_MAIL):
        return
    p = subprocess.run([PYTHON, CHECK_MAIL, *paths], capture_output=True, text=True,
                       timeout=60)
    expect(p.returncode == 0,
           f"check-mail.py exit {p.returncode}: {(p.stdout + p.stderr).strip()[:2000]}")


def header(msg, name):
    value = msg[name]
    expect(value is not None, f"no {name} header")
    return str(value).strip()


# --- the harness ------------------------------------------------------------------------------


class Noticed:
    """A daemon under test: a temporary directory with its config, the notify socket it reports
    to (bound here, as systemd binds it, and kept across restarts), its state directory and the
    Maildir its mail goes to."""

    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"noticed-{name}.")
        self.conf = os.path.join(self.dir, "noticed.conf")
        self.state = os.path.join(self.dir, "state")
        self.maildir = os.path.join(self.dir, "Maildir")
        self.log = os.path.join(self.dir, "stderr")
        self.socket_path = os.path.join(self.dir, "notify")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self.socket.bind(self.socket_path)
        except OSError:
            self.socket.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.proc = None
        self.extra_env = {}  # added to the daemon's environment by start()
        self.messages = []  # this process's datagrams as dicts, with "_at": arrival time
        self.cursor = 0     # the first message no wait_for() has consumed
        self.failed = False

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.failed = kind is not None
        self.close()
        return False

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.socket.close()
        if self.failed and os.environ.get("NOTICED_KEEP_TMP"):
            print(f"# kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                            "LISTEN_FDS", "CREDENTIALS_DIRECTORY")}
        env["STATE_DIRECTORY"] = self.state
        # noticectl decide and revoke copy to the journal: never the machine's, also by hand.
        env.setdefault("NOTICED_LOG_TARGET", "console")
        return env

    def write_config(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def config(self, commitment, **kwargs):
        self.write_config(config_text(self.maildir, commitment, **kwargs))

    # process

    def start(self, wait_ready=True):
        """Starts noticed with NOTIFY_SOCKET; by default waits for READY=1."""
        expect(self.proc is None or self.proc.poll() is not None, "already running")
        self.drain()
        self.messages, self.cursor = [], 0
        env = self.env()
        env.update(self.extra_env)
        env["NOTIFY_SOCKET"] = self.socket_path
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([NOTICED, "-c", self.conf, "--foreground"], env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if wait_ready:
            self.wait_for("READY", "1")
        return self

    def signal(self, signo):
        self.proc.send_signal(signo)

    def stop(self):
        """SIGTERM; waits for STOPPING=1 and the exit; returns the exit status."""
        self.signal(signal.SIGTERM)
        self.wait_for("STOPPING", "1")
        return self.wait_exit()

    def wait_exit(self, timeout=TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"noticed did not exit within {timeout:.0f} s{self.stderr_tail()}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stderr_tail(self, lines=15):
        text = self.stderr_text().rstrip("\n").splitlines()[-lines:]
        return "".join(f"\n#   {line}" for line in text)

    # notify datagrams

    def _receive(self, timeout):
        """Reads the datagrams that arrive within timeout seconds (at least one, if any)."""
        ready, _, _ = select.select([self.socket], [], [], max(timeout, 0))
        while ready:
            data = self.socket.recv(65536, socket.MSG_DONTWAIT)
            message = {"_at": time.time()}
            for line in data.decode("utf-8", "replace").split("\n"):
                if line:
                    key, _, value = line.partition("=")
                    message[key] = value
            self.messages.append(message)
            ready, _, _ = select.select([self.socket], [], [], 0)

    def drain(self):
        self._receive(0)

    def wait_for(self, key, value=None, timeout=TIMEOUT):
        """The first datagram after the ones already consumed that carries key (with value, when
        given); consumes it and those before it."""
        what = key if value is None else f"{key}={value}"

        def matches(m):
            return key in m and (value is None or m[key] == value)

        deadline = time.monotonic() + timeout
        while True:
            for i in range(self.cursor, len(self.messages)):
                if matches(self.messages[i]):
                    self.cursor = i + 1
                    return self.messages[i]
            self.cursor = len(self.messages)
            left = deadline - time.monotonic()
            if not self.running():
                self.drain()  # it may have said it just before exiting
                if any(matches(m) for m in self.messages[self.cursor:]):
                    continue
                raise Failure(f"waiting for {what}: noticed exited with status "
                              f"{self.proc.returncode}{self.stderr_tail()}")
            if left <= 0:
                raise Failure(f"no {what} within {timeout:.0f} s; last STATUS: "
                              f"{self.last_status()!r}{self.stderr_tail()}")
            self._receive(min(left, 0.2))  # short slices to notice an early exit

    def wait_pass(self, n, timeout=TIMEOUT):
        return self.wait_for("X_NOTICED_PASS", str(n), timeout)

    def pass_message(self, n):
        """The datagram of pass n of this process, received earlier."""
        for m in self.messages:
            if m.get("X_NOTICED_PASS") == str(n):
                return m
        raise Failure(f"no datagram of pass {n}")

    def last_status(self):
        for m in reversed(self.messages):
            if "STATUS" in m:
                return m["STATUS"]
        return None

    # what it did

    def mails(self):
        """Paths of the delivered messages, oldest name first."""
        new = os.path.join(self.maildir, "new")
        if not os.path.isdir(new):
            return []
        return sorted(os.path.join(new, f) for f in os.listdir(new))

    def noticectl(self, *args):
        """Runs noticectl on this config and state directory; it must exit 0."""
        p = subprocess.run([NOTICECTL, "-c", self.conf, *args], env=self.env(),
                           capture_output=True, text=True, timeout=60)
        expect(p.returncode == 0, f"noticectl {' '.join(args)}: exit {p.returncode}: "
                                  f"{p.stderr.strip()}")
        return p

    def history(self):
        """noticectl history --json: (reminder rows, decisions)."""
        out = self.noticectl("history", "--json").stdout
        try:
            rows = json.loads(out)
        except ValueError as e:
            raise Failure(f"history --json is not JSON ({e}): {out[:500]!r}")
        return ([r for r in rows if r.get("type") == "reminder"],
                [r for r in rows if r.get("type") == "decision"])


def states(rows):
    """{(id, channel): state} of history rows."""
    return {(r["id"], r["channel"]): r["state"] for r in rows}


def delivered(d):
    """{X-Noticed-Reminder: (path, message)} of every mail in the Maildir, each parsed strictly
    and checked by check-mail.py; the reminder ids must be unique."""
    paths = d.mails()
    by_id = {}
    for path in paths:
        msg = parse_mail(path)
        rid = header(msg, "X-Noticed-Reminder")
        expect(rid not in by_id, f"two mails for {rid}")
        by_id[rid] = (path, msg)
    check_mail_tool(paths)
    return by_id


def expect_mails_match_history(mails, rows):
    """Every mail is a "sent" row of history with the same Message-ID, to its recipient."""
    sent = {r["id"]: r for r in rows if r["state"] == "sent"}
    expect_equal(sorted(mails), sorted(sent), "mails in the Maildir vs sent rows in history")
    ids = set()
    for rid, (path, msg) in mails.items():
        message_id = header(msg, "Message-ID")
        expect(re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message_id),
               f"{rid}: Message-ID {message_id!r} is not <left@right>")
        expect_equal(sent[rid].get("message_id"), message_id,
                     f"{rid}: history's message_id vs the mail's Message-ID")
        expect(message_id not in ids, f"Message-ID {message_id} used twice")
        ids.add(message_id)
        recipient = rid.rsplit("/", 1)[1]
        to = [a.addr_spec for a in msg["To"].addresses]
        expect_equal(to, [f"{recipient}@test.example"], f"{rid}: To")


def reminder_id(kind, milestone, offset, recipient, cycle=0):
    return f"c1/{kind}/{cycle}/{milestone}/{offset}/{recipient}"


# --- the tests --------------------------------------------------------------------------------


def catch_up_scenario(d, today, send_time=None):
    """Deadline "ahead" in 5 days whose 20d and 10d reminders have passed, and deadline "past"
    two days ago, with a send_time just passed (just_passed()) so that the start-up pass is
    within its on-time window; returns {(id, "mail"): state} as the ledger must have it after
    the start."""
    ahead, past = today + days(5), today - days(2)
    d.config(deadlines_commitment(today, {"ahead": ahead, "past": past}),
             offsets=("20d", "10d", "3d", "0d"), send_time=send_time or just_passed("UTC"))
    want = {}
    for who in ("alice", "bob"):
        want[(reminder_id("deadline:ahead", ahead, "10d", who), "mail")] = "sent"
        want[(reminder_id("deadline:ahead", ahead, "20d", who), "mail")] = "skipped"
        for offset in ("20d", "10d", "3d", "0d"):
            want[(reminder_id("deadline:past", past, offset, who), "mail")] = "skipped"
    return want


def test_start_catches_up_latest_missed_reminder_only():
    today = today_in("UTC")
    with Noticed("catch-up") as d:
        send_time = just_passed("UTC")
        want = catch_up_scenario(d, today, send_time)
        d.start()
        rows, _ = d.history()
        expect_equal(states(rows), want, "ledger after the start-up pass")
        mails = delivered(d)
        expect_mails_match_history(mails, rows)
        status = d.pass_message(1)["STATUS"]
        ahead = today + days(5)
        expect(status.startswith(f"next: deadline c1 {ahead} (alice +1) at {today + days(2)} "
                                 f"{send_time[:5]} UTC;"),
               f"STATUS does not name the 3d reminders as next: {status!r}")
        expect(f"; {today}: sent 2, failed 0, skipped 10;" in status,
               f"STATUS does not count 2 sent, 10 skipped: {status!r}")
    # The Message-ID derives from the reminder's identity: another ledger, the same IDs.
    with Noticed("catch-up-again") as again:
        catch_up_scenario(again, today)
        again.start()
        expect_equal({rid: header(msg, "Message-ID") for rid, (_, msg) in delivered(again).items()},
                     {rid: header(msg, "Message-ID") for rid, (_, msg) in mails.items()},
                     "Message-IDs of the same reminders delivered from another state directory")


def test_restart_delivers_nothing_twice():
    today = today_in("UTC")
    with Noticed("restart") as d:
        catch_up_scenario(d, today)
        d.start()
        mails_before = d.mails()
        rows_before, _ = d.history()
        expect_equal(len(mails_before), 2, "mails after the first start")
        expect_equal(d.stop(), 0, "exit status after SIGTERM")
        d.start()
        expect_equal(d.mails(), mails_before, "Maildir after the restart")
        rows_after, _ = d.history()
        expect_equal(rows_after, rows_before, "history after the restart")
        status = d.pass_message(1)["STATUS"]
        # The counts are the ledger's: the restart sent nothing more, and forgot nothing.
        expect(f"; {today}: sent 2, failed 0, skipped 10; in all: sent 2, failed 0;" in status,
               f"the restart's pass did something, or STATUS forgot: {status!r}")


def test_timer_delivers_reminder_on_time():
    tz = "Europe/Amsterdam"
    today = today_in(tz)
    with Noticed("on-time") as d:
        due, send_time = due_in_seconds(tz, today, 4)
        d.config(deadlines_commitment(today, {"soon": today}), tz=tz, send_time=send_time)
        d.start()
        status = d.pass_message(1)["STATUS"]
        zone = dt.datetime.fromtimestamp(due, ZoneInfo(tz)).strftime("%Z")
        expect(status.startswith(f"next: deadline c1 {today} (alice +1) at {today} {send_time[:5]} "
                                 f"{zone};"),
               f"STATUS does not name the reminder due at {send_time}: {status!r}")
        expect_equal(d.mails(), [], "mails before the due instant")
        message = d.wait_pass(2, timeout=due - time.time() + TIMEOUT)
        expect(message["_at"] >= due, f"the pass came {due - message['_at']:.3f} s early")
        mails = delivered(d)
        rows, _ = d.history()
        wanted = sorted(reminder_id("deadline:soon", today, "0d", who) for who in ("alice", "bob"))
        expect_equal(sorted(mails), wanted, "mails after the due instant")
        expect_mails_match_history(mails, rows)
        for rid, (path, _) in mails.items():
            late = os.stat(path).st_mtime - due
            expect(0 <= late <= 2, f"{rid} written {late:+.3f} s from its due instant")
        for row in rows:
            late = parse_rfc3339(row["at"]) - due
            expect(0 <= late <= 2, f"history says {row['id']} was sent {late:+.0f} s from due")
            expect_equal(parse_rfc3339(row["due"]), due, f"{row['id']}: due")
        expect(f"; {today}: sent 2, failed 0, skipped 0;" in message["STATUS"],
               f"STATUS after the timer's pass: {message['STATUS']!r}")


def test_sighup_replans_and_survives_a_broken_config():
    today = today_in("UTC")
    with Noticed("reload") as d:
        first, second, third = today + days(10), today + days(20), today + days(30)
        d.config(deadlines_commitment(today, {"first": first}))
        d.start()
        expect(d.pass_message(1)["STATUS"].startswith(f"next: deadline c1 {first} "),
               f"STATUS before the reload: {d.pass_message(1)['STATUS']!r}")

        d.config(deadlines_commitment(today, {"second": second}))
        d.signal(signal.SIGHUP)
        reloading = d.wait_for("RELOADING", "1")
        expect(re.fullmatch(r"\d+", reloading.get("MONOTONIC_USEC", "")),
               f"RELOADING=1 without MONOTONIC_USEC: {reloading}")
        status = d.wait_pass(2)["STATUS"]
        expect(status.startswith(f"next: deadline c1 {second} (alice +1) at {second} 09:00 UTC;"),
               f"STATUS after a good reload does not name the new deadline: {status!r}")
        d.wait_for("READY", "1")

        good = open(d.conf).read()
        d.write_config(good + "broken = ;\n")
        line = good.count("\n") + 1
        d.signal(signal.SIGHUP)
        d.wait_for("RELOADING", "1")
        status = d.wait_pass(3)["STATUS"]
        expect(status.startswith(f"reload failed: {d.conf}:{line}: syntax error"),
               f"STATUS after a syntax error does not say reload failed: {d.conf}:{line}: "
               f"{status!r}")
        expect(f"still running the previous config; next: deadline c1 {second} " in status,
               f"STATUS after a failed reload does not keep the running plan: {status!r}")
        d.wait_for("READY", "1")
        expect(d.running(), "noticed exited after a failed reload")
        expect(f"{d.conf}:{line}: syntax error" in d.stderr_text(),
               "the failed reload is not logged as FILE:LINE")

        bad = good.replace('    participants = ["alice", "bob"];\n',
                           '    participants = ["alice", "bob"];\n    colour = "red";\n')
        line = bad.splitlines().index('    colour = "red";') + 1
        d.write_config(bad)
        d.signal(signal.SIGHUP)
        status = d.wait_pass(4)["STATUS"]
        expect(status.startswith(f"reload failed: {d.conf}:{line}: unknown key 'colour'"),
               f"STATUS after an unknown key: {status!r}")
        d.wait_for("READY", "1")

        d.config(deadlines_commitment(today, {"third": third}))
        d.signal(signal.SIGHUP)
        status = d.wait_pass(5)["STATUS"]
        expect(status.startswith(f"next: deadline c1 {third} (alice +1)"),
               f"a good reload does not clear the failure: {status!r}")
        d.wait_for("READY", "1")
        expect_equal(d.stop(), 0, "exit status after SIGTERM")


def test_sigterm_and_sigint_stop_with_stopping_and_status_0():
    today = today_in("UTC")
    with Noticed("stop") as d:
        d.config(deadlines_commitment(today, {"later": today + days(10)}))
        for signo in (signal.SIGTERM, signal.SIGINT):
            d.start()
            d.signal(signo)
            d.wait_for("STOPPING", "1")
            expect_equal(d.wait_exit(), 0, f"exit status after {signo.name}")
            d.drain()
            later = [m for m in d.messages[d.cursor:] if "X_NOTICED_PASS" in m or "READY" in m]
            expect(not later, f"datagrams after STOPPING=1: {later}")


def test_decide_stops_reminders_for_that_participant():
    today = today_in("UTC")
    with Noticed("decide") as d:
        due, send_time = due_in_seconds("UTC", today, 5)
        decision = today + days(2)
        d.config(decision_commitment(decision, decision_lead_days=1), offsets=("2d",),
                 send_time=send_time)
        d.start()
        status = d.pass_message(1)["STATUS"]
        expect(status.startswith(f"next: decision c1 {decision} (alice +1) at {today} "
                                 f"{send_time[:5]}"),
               f"STATUS does not name both decision reminders as next: {status!r}")
        out = d.noticectl("decide", "c1", "1", "alice", "continue", "--note", "test").stdout
        expect(time.time() < due, "noticectl decide finished after the due instant; too slow "
                                  "a machine for this test")
        expect("Recorded" in out, f"decide printed {out!r}")
        n = 2
        message = d.wait_pass(n, timeout=due - time.time() + TIMEOUT)
        while message["_at"] < due:  # a clock set elsewhere on the machine re-planned early
            n += 1
            message = d.wait_pass(n, timeout=due - time.time() + TIMEOUT)
        mails = delivered(d)
        expect_equal(sorted(mails), [reminder_id("decision", decision, "2d", "bob", cycle=1)],
                     "mails at the due instant")
        rows, decisions = d.history()
        expect_mails_match_history(mails, rows)
        expect(not [r for r in rows if r["recipient"] == "alice"],
               f"the ledger has rows for alice, who decided: {rows}")
        expect_equal([(x["commitment"], x["cycle"], x["participant"], x["decision"], x["note"])
                      for x in decisions], [("c1", 1, "alice", "continue", "test")],
                     "decisions in history")
        expect(f"; {today}: sent 1, failed 0, skipped 0;" in message["STATUS"],
               f"STATUS after the pass: {message['STATUS']!r}")


def test_overdue_and_escalation_go_out_once():
    today = today_in("UTC")
    with Noticed("overdue") as d:
        decision = today - days(7)  # the notice deadline is the same day: one overdue for both
        d.config(decision_commitment(decision, escalate_to=("boss",)), offsets=("1d", "0d"),
                 send_time=just_passed("UTC"))
        os.mkdir(d.state)  # as systemd's StateDirectory= would have
        d.noticectl("decide", "c1", "1", "bob", "terminate")
        d.start()
        wanted = sorted(reminder_id("decision", decision, "overdue", who, cycle=1)
                        for who in ("alice", "boss"))
        mails = delivered(d)
        expect_equal(sorted(mails), wanted, "overdue mails (alice late, bob decided, boss "
                                            "escalated)")
        rows, _ = d.history()
        expect_mails_match_history(mails, rows)
        overdue_at = next_working_day(decision)
        for row in rows:
            if row["offset"] == "overdue":
                expect_equal(row["due"][:10], str(overdue_at), f"{row['id']}: due date")
        about_decision = [r for r in rows if r["recipient"] == "bob"
                          and r["kind"] in ("decision", "notice")]
        expect(not about_decision,
               f"the ledger has decision rows for bob, who decided: {about_decision}")
        expect(all(r["state"] == "skipped" for r in rows if r["offset"] != "overdue"),
               "a reminder before a passed milestone was not skipped")

        expect_equal(d.stop(), 0, "exit status after SIGTERM")
        d.start()
        expect_equal(sorted(delivered(d)), wanted, "overdue mails after a restart")
        expect_equal(d.history()[0], rows, "history after the restart")


def test_bad_config_exits_78_before_ready():
    today = today_in("UTC")
    with Noticed("bad-config") as d:
        d.config(deadlines_commitment(today, {"x": today + days(3)}))
        good = open(d.conf).read()
        cases = {
            "syntax error": (good + "broken = ;\n", good.count("\n") + 1),
            "unknown key 'colour'": (good.replace('title = "Test commitment";',
                                                  'title = "Test commitment";\n    colour = 1;'),
                                     None),
        }
        for message, (text, line) in cases.items():
            if line is None:
                line = text.splitlines().index("    colour = 1;") + 1
            d.write_config(text)
            d.start(wait_ready=False)
            status = d.wait_exit()
            d.drain()
            expect_equal(status, EX_CONFIG, f"exit status of a config with a {message}")
            expect(not [m for m in d.messages if "READY" in m],
                   f"READY=1 sent for a config with a {message}")
            expect(f"{d.conf}:{line}: {message}" in d.stderr_text(),
                   f"stderr does not say {d.conf}:{line}: {message}:{d.stderr_tail()}")
        expect(not os.path.exists(d.maildir), "a bad config delivered mail")


def test_unreadable_secret_exits_78_saying_why():
    today = today_in("UTC")
    with Noticed("secret") as d:
        d.config(deadlines_commitment(today, {"x": today + days(3)}))
        good = open(d.conf).read()
        maildir = f'url = "maildir:{d.maildir}";'
        expect(maildir in good, "the config has no maildir transport to replace")
        smtp = 'url = "smtp://127.0.0.1:2525"; tls = "none"; username = "n";'
        credentials = os.path.join(d.dir, "credentials")
        os.mkdir(credentials, 0o700)
        d.extra_env["CREDENTIALS_DIRECTORY"] = credentials  # empty: the credential is missing
        missing = os.path.join(d.dir, "missing.pw")
        line = next(i for i, text in enumerate(good.splitlines(), 1) if maildir in text)
        cases = {
            # Checked by the config itself: FILE:LINE.
            f"{d.conf}:{line}: cannot use password_file '{missing}': No such file or directory":
                f'{smtp} password_file = "{missing}";',
            # Read after the config was accepted: the file, the transport, the reason.
            f"{d.conf}: transport outbox: cannot read the credential relay.pw: "
            "No such file or directory":
                f'{smtp} password_credential = "relay.pw";',
        }
        for message, transport in cases.items():
            d.write_config(good.replace(maildir, transport))
            open(d.log, "w").close()
            d.start(wait_ready=False)
            status = d.wait_exit()
            d.drain()
            expect_equal(status, EX_CONFIG, f"exit status when {message}")
            expect(not [m for m in d.messages if "READY" in m], f"READY=1 sent when {message}")
            expect(message in d.stderr_text(), f"stderr does not say {message}:{d.stderr_tail()}")
            expect("%m" not in d.stderr_text(), f"stderr has a literal %m:{d.stderr_tail()}")


def test_reload_with_an_unreadable_secret_keeps_the_previous_config():
    today = today_in("UTC")
    with Noticed("reload-secret") as d:
        deadline = today + days(10)
        d.config(deadlines_commitment(today, {"first": deadline}))
        good = open(d.conf).read()
        d.start()
        # Started without CREDENTIALS_DIRECTORY (env() removes it): no credential can be read.
        d.write_config(good.replace(f'url = "maildir:{d.maildir}";',
                                    'url = "smtp://127.0.0.1:2525"; tls = "none"; username = "n"; '
                                    'password_credential = "relay.pw";'))
        d.signal(signal.SIGHUP)
        status = d.wait_pass(2)["STATUS"]
        reason = (f"{d.conf}: transport outbox: cannot read the credential relay.pw: "
                  "$CREDENTIALS_DIRECTORY is not set")
        expect(status.startswith(f"reload failed: {reason}"),
               f"STATUS after a reload with an unreadable secret: {status!r}")
        expect(f"still running the previous config; next: deadline c1 {deadline} " in status,
               f"STATUS after a failed reload does not keep the running plan: {status!r}")
        d.wait_for("READY", "1")
        expect(reason in d.stderr_text(), f"the log does not say {reason}:{d.stderr_tail()}")
        d.write_config(good)
        d.signal(signal.SIGHUP)
        status = d.wait_pass(3)["STATUS"]
        expect(status.startswith(f"next: deadline c1 {deadline} "),
               f"a good reload does not clear the failure: {status!r}")
        d.wait_for("READY", "1")
        expect_equal(d.stop(), 0, "exit status after SIGTERM")


def test_reload_with_other_offsets_sends_nothing_twice():
    today = today_in("UTC")
    with Noticed("offsets") as d:
        deadline = {"soon": today + days(5)}
        send_time = just_passed("UTC")
        d.config(deadlines_commitment(today, deadline), offsets=("7d",), send_time=send_time)
        d.start()
        expect_equal(len(d.mails()), 2, "mails after the start (the 7d reminder, caught up)")
        passes = 1
        # "1w" is "7d"; an 8d reminder now would be older than the 7d one already sent.
        for offsets in (("1w",), ("8d", "1w")):
            d.config(deadlines_commitment(today, deadline), offsets=offsets, send_time=send_time)
            d.signal(signal.SIGHUP)
            passes += 1
            status = d.wait_pass(passes)["STATUS"]
            d.wait_for("READY", "1")
            expect(f"; {today}: sent 2, failed 0, skipped {0 if passes == 2 else 2};" in status,
                   f"after reloading with offsets {offsets}: {status!r}")
            expect_equal(len(d.mails()), 2, f"mails after reloading with offsets {offsets}")


def test_second_daemon_on_the_same_state_directory_refuses_to_start():
    today = today_in("UTC")
    with Noticed("lock") as d:
        catch_up_scenario(d, today)
        d.start()
        second = subprocess.run([NOTICED, "-c", d.conf, "--foreground"], env=d.env(),
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=TIMEOUT)
        expect_equal(second.returncode, 73, "exit status of a second daemon")
        expect(f"Another noticed is running with the state directory {d.state}" in second.stderr,
               f"the second daemon does not say why: {second.stderr!r}")
        expect(d.running(), "the first daemon stopped")
        expect_equal(len(d.mails()), 2, "mails (the second daemon must send nothing)")


def test_sendmail_delivers_and_a_long_start_keeps_systemd_informed():
    today = today_in("UTC")
    with Noticed("sendmail") as d:
        # A sendmail that takes 0.7 s a message (a slow peer, not a synchronisation): with a
        # reminder for each of the three recipients the start-up pass takes over 2 s, and
        # systemd must hear EXTEND_TIMEOUT_USEC and WATCHDOG=1 before READY=1.
        inbox = os.path.join(d.dir, "sendmail-inbox")
        os.mkdir(inbox)
        fake = os.path.join(d.dir, "sendmail")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\n"
                    f'[ "$*" = "-t -oi" ] || exit 64\n'
                    f'cat > "{inbox}/$$.eml"\n'
                    "sleep 0.7\n")
        os.chmod(fake, 0o755)
        text = config_text(d.maildir, deadlines_commitment(today, {"soon": today + days(5)},
                                                           participants=RECIPIENTS),
                           offsets=("10d",), send_time=just_passed("UTC"))
        d.write_config(text.replace(f'url = "maildir:{d.maildir}"', 'url = "sendmail:"'))
        d.extra_env = {"NOTICED_SENDMAIL": fake, "WATCHDOG_USEC": "60000000"}
        d.start()
        before_ready = d.messages[:next(i for i, m in enumerate(d.messages) if "READY" in m)]
        expect(any(m.get("EXTEND_TIMEOUT_USEC") == "30000000" for m in before_ready),
               f"no EXTEND_TIMEOUT_USEC before READY=1: {before_ready}")
        expect(any(m.get("WATCHDOG") == "1" for m in before_ready),
               f"no WATCHDOG=1 during the long start-up pass: {before_ready}")
        mails = sorted(os.listdir(inbox))
        expect_equal(len(mails), len(RECIPIENTS), "messages sendmail received")
        wire = []
        for m in mails:
            with open(os.path.join(inbox, m), "rb") as f:
                local = f.read()
            expect(b"\r" not in local, f"{m}: sendmail must get local LF line ends, not CRLF")
            # What an MTA puts on the wire: CRLF again, then the strict checks.
            wire.append(os.path.join(inbox, m + ".wire"))
            with open(wire[-1], "wb") as f:
                f.write(local.replace(b"\n", b"\r\n"))
        check_mail_tool(wire)
        rows, _ = d.history()
        expect(all(r["state"] == "sent" and r["reply"] == "sendmail: exit 0"
                   for r in rows if r["type"] == "reminder" and r["offset"] == "10d"),
               f"history: {rows}")


def test_reload_replacing_an_offset_sends_nothing_older():
    today = today_in("UTC")
    with Noticed("replace") as d:
        deadline = {"soon": today + days(5)}
        send_time = just_passed("UTC")
        d.config(deadlines_commitment(today, deadline), offsets=("7d", "1d"), send_time=send_time)
        d.start()
        expect_equal(len(d.mails()), 2, "mails after the start (the 7d reminder, caught up)")
        # 7d is gone from the config; 8d would be older than the 7d reminder already sent.
        d.config(deadlines_commitment(today, deadline), offsets=("8d", "1d"), send_time=send_time)
        d.signal(signal.SIGHUP)
        status = d.wait_pass(2)["STATUS"]
        d.wait_for("READY", "1")
        expect(f"; {today}: sent 2, failed 0, skipped 2;" in status,
               f"after replacing 7d by 8d: {status!r}")
        expect_equal(len(d.mails()), 2, "mails after replacing 7d by 8d")


def test_sigterm_in_the_middle_of_a_pass_stops_there_and_loses_nothing():
    today = today_in("UTC")
    with Noticed("stop-mid-pass") as d:
        # The first sendmail run itself sends SIGTERM to noticed (its parent), once: the pass
        # must end before the next delivery, and a restart must deliver the rest, once each.
        inbox = os.path.join(d.dir, "sendmail-inbox")
        os.mkdir(inbox)
        marker = os.path.join(d.dir, "terminated-once")
        fake = os.path.join(d.dir, "sendmail")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\n"
                    f'cat > "{inbox}/$$.eml"\n'
                    f'if [ ! -e "{marker}" ]; then touch "{marker}"; kill -TERM $PPID; fi\n')
        os.chmod(fake, 0o755)
        text = config_text(d.maildir, deadlines_commitment(today, {"soon": today + days(5)},
                                                           participants=RECIPIENTS),
                           offsets=("10d",), send_time=just_passed("UTC"))
        d.write_config(text.replace(f'url = "maildir:{d.maildir}"', 'url = "sendmail:"'))
        d.extra_env = {"NOTICED_SENDMAIL": fake}
        d.start(wait_ready=False)
        d.wait_for("STOPPING", "1")
        expect_equal(d.wait_exit(), 0, "exit status after SIGTERM during the pass")
        expect_equal(len(os.listdir(inbox)), 1, "messages before the stop\n" + d.stderr_text())
        expect("Stopping in the middle of a pass" in d.stderr_text(), "no log line about it")
        d.start()
        expect_equal(len(os.listdir(inbox)), len(RECIPIENTS), "messages after the restart")
        rows, _ = d.history()
        sent = sorted(r["recipient"] for r in rows if r["state"] == "sent")
        expect_equal(sent, sorted(RECIPIENTS), "recipients sent to, once each")


def set_clock_to_itself():
    """clock_settime(CLOCK_REALTIME, now): a clock *set* event for every CANCEL_ON_SET timerfd,
    while the time moves by microseconds only, so the machine's clock is left as it was."""
    import ctypes

    class Timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

    libc = ctypes.CDLL(None, use_errno=True)
    now = Timespec()
    libc.clock_gettime(0, ctypes.byref(now))
    if libc.clock_settime(0, ctypes.byref(now)) != 0:
        raise Skip("cannot set the clock here (%s)" % os.strerror(ctypes.get_errno()))


def test_clock_set_replans_without_sending_twice():
    today = today_in("UTC")
    with Noticed("clock") as d:
        catch_up_scenario(d, today)
        d.start()
        mails_before = d.mails()
        expect_equal(len(mails_before), 2, "mails after the start")
        set_clock_to_itself()
        status = d.wait_pass(2)["STATUS"]
        expect(f"; {today}: sent 2, failed 0, skipped 10;" in status,
               f"the pass after the clock was set did something: {status!r}")
        expect("The system clock was set" in d.stderr_text(), "no log line about the clock")
        expect_equal(d.mails(), mails_before, "Maildir after the clock was set")


# --- revoke: a decision taken back, the participant's reminders resume -----------------------


def wait_for_mails(d, n, until):
    """Until the Maildir holds n messages or the instant until (+ TIMEOUT) has passed; the
    daemon's datagrams are read meanwhile, so that an early exit is seen."""
    while len(d.mails()) < n:
        expect(time.time() < until + TIMEOUT and d.running(),
               f"{len(d.mails())} mails, wanted {n}; last STATUS: {d.last_status()!r}"
               f"{d.stderr_tail()}")
        d._receive(0.2)


def wait_for_pass_after(d, instant):
    """The first pass whose datagram arrives at or after instant: the one its timer started."""
    while True:
        message = d.wait_for("X_NOTICED_PASS", None, timeout=instant - time.time() + TIMEOUT)
        if message["_at"] >= instant:
            return message


def test_revoke_resumes_reminders_without_resending_the_skipped():
    # Three due instants a few seconds apart must fall on one day.
    now = dt.datetime.now(dt.timezone.utc)
    left = (dt.datetime.combine(now.date() + days(1), dt.time(), dt.timezone.utc) - now)
    if left.total_seconds() < 90:
        time.sleep(left.total_seconds() + 1)  # waiting for the clock, not for the daemon
    today = today_in("UTC")
    decision = today + days(5)  # its 20d and 10d reminders are missed: caught up, and skipped
    notice = decision + days(20)  # its 25d reminder, added later, is due today
    with Noticed("revoke") as d:
        due, send_time = due_in_seconds("UTC", today, 4)
        commitment = decision_commitment(decision, decision_lead_days=20)
        d.config(commitment, offsets=("20d", "10d"), send_time=send_time)
        d.start()
        wait_for_mails(d, 2, due)
        skipped = {(r["recipient"], r["offset"]) for r in d.history()[0]
                   if r["state"] == "skipped"}
        expect_equal(skipped, {("alice", "20d"), ("bob", "20d")}, "skipped after the catch-up")

        d.noticectl("decide", "c1", "1", "alice", "terminate")
        due, send_time = due_in_seconds("UTC", today, 4)
        d.config(commitment, offsets=("25d", "20d", "10d"), send_time=send_time)
        d.signal(signal.SIGHUP)
        d.wait_for("READY", "1")
        wait_for_pass_after(d, due)
        expect_equal(sorted(delivered(d)),
                     sorted([reminder_id("decision", decision, "10d", who, cycle=1)
                             for who in ("alice", "bob")]
                            + [reminder_id("notice", notice, "25d", "bob", cycle=1)]),
                     "mails while alice's decision stands (she gets nothing)")

        out = d.noticectl("revoke", "c1", "1", "alice", "--note", "by mistake").stdout
        expect("Revoked" in out, f"revoke printed {out!r}")
        due, send_time = due_in_seconds("UTC", today, 4)
        d.config(commitment, offsets=("25d", "20d", "10d"), send_time=send_time)
        d.signal(signal.SIGHUP)
        d.wait_for("READY", "1")
        wait_for_pass_after(d, due)
        mails = delivered(d)
        expect_equal(sorted(mails),
                     sorted([reminder_id("decision", decision, "10d", who, cycle=1)
                             for who in ("alice", "bob")]
                            + [reminder_id("notice", notice, "25d", who, cycle=1)
                               for who in ("alice", "bob")]),
                     "mails after the revocation (alice's next reminder, nothing twice)")
        rows, decisions = d.history()
        expect_mails_match_history(mails, rows)
        states_of = {(r["recipient"], r["kind"], r["offset"]): r["state"] for r in rows}
        expect_equal(states_of.get(("alice", "decision", "20d")), "skipped",
                     "alice's skipped reminder after the revocation")
        expect_equal([(x["participant"], x["decision"]) for x in decisions],
                     [("alice", "terminate"), ("alice", "revoke")], "the decision trail")


# --- reload through the unit's ExecReload=, STATUS= counters from the ledger -------------------

UNIT = os.path.join(TOP, "systemd", "noticed.service")
# Where `make install` puts the programs the unit names, and what stands in for them here.
INSTALLED = {"/usr/local/sbin/noticed": NOTICED, "/usr/local/bin/noticectl": NOTICECTL}


def unit_commands(key):
    """The command lines of KEY= in [Service] of the shipped unit, in order."""
    lines, section = [], None
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line
            elif section == "[Service]" and line.startswith(key + "="):
                expect(not line.endswith("\\"), f"{key}= continued on the next line: {line!r}")
                lines.append(line[len(key) + 1:])
    return lines


def systemd_argv(line, env):
    """A command line as systemd.service(5) runs it: split into words at white space, quotes
    removed (shlex's rules, which agree with systemd's for lines without backslashes), then in
    each word "$$" becomes "$" and "${NAME}" NAME's value, and a word that is "$NAME" alone
    becomes the words of NAME's value.  Returns (argv, ignore_failure): a leading "-" means the
    exit status is ignored; other prefixes are not expected in this unit."""
    expect("\\" not in line, f"a backslash in {line!r}: systemd's escapes are not modelled")
    words = shlex.split(line)
    expect(words, f"an empty command line: {line!r}")
    prefixes = re.match(r"[-@:+!]*", words[0])[0]
    expect(set(prefixes) <= {"-"}, f"prefixes {prefixes!r} of {line!r} are not modelled")
    words[0] = words[0][len(prefixes):]
    argv = []
    for word in words:
        if re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", word):
            argv.extend(env.get(word[1:], "").split())
            continue
        argv.append(re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                           lambda m: env.get(m[1], "") if m[1] else "$", word))
    return argv, "-" in prefixes


def config_argument(argv, what):
    expect("-c" in argv[:-1], f"{what} has no -c FILE: {argv}")
    return argv[argv.index("-c") + 1]


def run_exec_reload(d):
    """Runs the unit's ExecReload= commands in order, as systemd does for `systemctl reload`,
    against the daemon d: the installed programs replaced by the ones under test, ExecStart's
    -c FILE (which each command must name too) by d's config, $MAINPID its process.  Stops at
    the first that fails.  Returns (succeeded, the commands' stdout and stderr)."""
    env = d.env()
    env["MAINPID"] = str(d.proc.pid)
    start, = unit_commands("ExecStart")
    unit_config = config_argument(systemd_argv(start, env)[0], "ExecStart")
    commands = unit_commands("ExecReload")
    expect(commands, "the unit has no ExecReload=")
    output = ""
    for line in commands:
        argv, ignore_failure = systemd_argv(line, env)
        if argv[0] in INSTALLED:
            expect_equal(config_argument(argv, line), unit_config, f"-c of {line!r}")
        argv = [INSTALLED.get(argv[0], argv[0])] + [d.conf if a == unit_config else a
                                                    for a in argv[1:]]
        p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60)
        output += p.stdout + p.stderr
        if p.returncode != 0 and not ignore_failure:
            return False, output
    return True, output


def test_reload_by_the_units_exec_reload_fails_for_a_broken_config_and_sends_no_sighup():
    today = today_in("UTC")
    with Noticed("exec-reload") as d:
        first, second = today + days(10), today + days(20)
        d.config(deadlines_commitment(today, {"first": first}))
        d.start()
        good = open(d.conf).read()
        d.write_config(good + "broken = ;\n")
        line = good.count("\n") + 1
        succeeded, output = run_exec_reload(d)
        expect(not succeeded, f"ExecReload= succeeded with a broken config: {output!r}")
        expect(f"{d.conf}:{line}: syntax error" in output,
               f"ExecReload= does not say {d.conf}:{line}: syntax error: {output!r}")
        d.drain()
        expect(d.last_status().startswith(f"next: deadline c1 {first} "),
               f"STATUS after the refused reload does not name the old deadline: "
               f"{d.last_status()!r}")

        d.config(deadlines_commitment(today, {"second": second}))
        succeeded, output = run_exec_reload(d)
        expect(succeeded, f"ExecReload= failed with a good config: {output!r}")
        d.wait_for("RELOADING", "1")
        # Had the failed attempt signalled, pass 2 would be its refusal and this one pass 3.
        status = d.wait_pass(2)["STATUS"]
        expect(status.startswith(f"next: deadline c1 {second} "),
               f"STATUS after the good reload does not name the new deadline: {status!r}")
        d.wait_for("READY", "1")
        expect_equal(len([m for m in d.messages if "RELOADING" in m]), 1,
                     "reloads the daemon began")
        expect("failed; still running the previous config" not in d.stderr_text(),
               f"the daemon saw the broken config:{d.stderr_tail()}")
        expect_equal(d.stop(), 0, "exit status after SIGTERM")


def test_status_counts_come_from_the_ledger_by_the_configs_day_and_survive_a_restart():
    """STATUS= counts what the ledger holds: a restart keeps them, and "the day" is the config's
    local day (UTC+14 here, so that a UTC day would count otherwise), from its midnight on."""
    tz = "Pacific/Kiritimati"
    today = today_in(tz)
    with Noticed("status-counts") as d:
        ahead = today + days(5)
        d.config(deadlines_commitment(today, {"ahead": ahead, "past": today - days(2)}), tz=tz,
                 offsets=("20d", "10d", "3d", "0d"), send_time=just_passed(tz))
        d.start()
        counts = f"; {today}: sent 2, failed 0, skipped 10; in all: sent 2, failed 0; queued 0"
        status = d.pass_message(1)["STATUS"]
        expect(status.endswith(counts), f"STATUS after the start does not end {counts!r}: "
                                        f"{status!r}")
        expect_equal(d.stop(), 0, "exit status after SIGTERM")
        d.start()
        status = d.pass_message(1)["STATUS"]
        expect(status.endswith(counts), f"STATUS after a restart does not end {counts!r}: "
                                        f"{status!r}")
        expect_equal(d.stop(), 0, "exit status after SIGTERM")

        # As if alice's reminder had been sent in the last microsecond of yesterday, and bob's
        # at midnight: the ledger's rows, as an earlier daemon would have left them.
        midnight = dt.datetime.combine(today, dt.time(), ZoneInfo(tz)).timestamp()
        midnight_usec = int(midnight) * 1000000
        db = sqlite3.connect(os.path.join(d.state, "ledger.sqlite"))
        try:
            with db:
                for who, at in (("alice", midnight_usec - 1), ("bob", midnight_usec)):
                    changed = db.execute(
                        "UPDATE reminders SET updated_usec = ? WHERE id = ? AND channel = 'mail'",
                        (at, reminder_id("deadline:ahead", ahead, "10d", who))).rowcount
                    expect_equal(changed, 1, f"{who}'s sent row")
        finally:
            db.close()
        d.start()
        counts = f"; {today}: sent 1, failed 0, skipped 10; in all: sent 2, failed 0; queued 0"
        status = d.pass_message(1)["STATUS"]
        expect(status.endswith(counts), f"STATUS with a reminder sent yesterday does not end "
                                        f"{counts!r}: {status!r}")


# --- catch-up at send_time, one message a day, --dry-run (issue 10) ---------------------------


def wait_pass_after(d, due, n=2):
    """The first pass numbered n or later that ran at or after the instant due (a clock set
    elsewhere on the machine may add passes before it)."""
    message = d.wait_pass(n, timeout=due - time.time() + TIMEOUT)
    while message["_at"] < due:
        n += 1
        message = d.wait_pass(n, timeout=due - time.time() + TIMEOUT)
    return message


def test_missed_reminder_goes_out_at_send_time_not_at_start():
    today = today_in("UTC")
    with Noticed("catch-up-at-send-time") as d:
        due, send_time = due_in_seconds("UTC", today, 5)
        deadline = today + days(3)  # its 7d reminder was planned 4 days ago: missed
        d.config(deadlines_commitment(today, {"soon": deadline}, participants=("alice",)),
                 offsets=("7d",), send_time=send_time)
        d.start()
        status = d.pass_message(1)["STATUS"]
        expect_equal(d.mails(), [], "mails after the start-up pass, before send_time")
        expect(status.startswith(f"next: deadline c1 {deadline} (alice) at {today} "
                                 f"{send_time[:5]} UTC;"),
               f"STATUS does not name the caught-up reminder at send_time: {status!r}")
        message = wait_pass_after(d, due)
        mails = delivered(d)
        expect_equal(sorted(mails), [reminder_id("deadline:soon", deadline, "7d", "alice")],
                     "mails at send_time")
        late = os.stat(mails[next(iter(mails))][0]).st_mtime - due
        expect(0 <= late <= 2, f"the caught-up reminder was written {late:+.3f} s from send_time")
        expect(f"; {today}: sent 1, failed 0, skipped 0;" in message["STATUS"],
               f"STATUS after send_time: {message['STATUS']!r}")


def test_catch_up_and_that_days_reminder_are_one_message():
    today = today_in("UTC")
    with Noticed("catch-up-same-day") as d:
        due, send_time = due_in_seconds("UTC", today, 5)
        deadline = today + days(1)  # 7d: missed 6 days ago; 1d: today at send_time
        d.config(deadlines_commitment(today, {"soon": deadline}, participants=("alice",)),
                 offsets=("7d", "1d"), send_time=send_time)
        d.start()
        expect_equal(d.mails(), [], "mails after the start-up pass, before send_time")
        rows, _ = d.history()
        expect_equal(rows, [], "ledger rows before send_time")
        message = wait_pass_after(d, due)
        mails = delivered(d)
        expect_equal(sorted(mails), [reminder_id("deadline:soon", deadline, "1d", "alice")],
                     "mails at send_time: the day's own reminder only")
        rows, _ = d.history()
        expect_mails_match_history(mails, rows)
        skipped = [r for r in rows if r["state"] == "skipped"]
        expect_equal([r["id"] for r in skipped],
                     [reminder_id("deadline:soon", deadline, "7d", "alice")], "skipped rows")
        expect("superseded" in (skipped[0]["reply"] or ""),
               f"the 7d reminder's reason: {skipped[0]['reply']!r}")
        expect(f"; {today}: sent 1, failed 0, skipped 1;" in message["STATUS"],
               f"STATUS after send_time: {message['STATUS']!r}")


def dry_run_config(d, today, deadlines, send_time, port):
    """alice by mail, bob by a webhook to a closed port (its deliveries wait, retrying)."""
    text = config_text(d.maildir, deadlines_commitment(today, deadlines), offsets=("20d", "10d", "3d", "0d"),
                       send_time=send_time)
    text = text.replace('transports = {\n',
                        f'transports = {{\n  dead = {{ url = "http://127.0.0.1:{port}/hook"; }};\n')
    text = text.replace('{ id = "bob"; name = "Bob"; mail = ["bob@test.example"]; }',
                        '{ id = "bob"; name = "Bob"; webhooks = ["dead"]; }')
    expect('webhooks = ["dead"]' in text, "the config has no bob to give a webhook")
    d.write_config(text)


def closed_port():
    """A loopback TCP port nothing listens on (bound, then closed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def state_files(d):
    """{name: bytes} of the state directory's ledger files."""
    files = {}
    for name in sorted(os.listdir(d.state)):
        if name.startswith("ledger.sqlite"):
            with open(os.path.join(d.state, name), "rb") as f:
                files[name] = f.read()
    return files


def test_dry_run_prints_the_start_up_pass_and_writes_nothing():
    today = today_in("UTC")
    with Noticed("dry-run") as d:
        port = closed_port()
        ahead, past = today + days(5), today - days(2)
        # A first start: the 10d reminder of "ahead" is sent to alice and waits for bob's
        # webhook; the older and the passed ones are skipped.
        dry_run_config(d, today, {"ahead": ahead, "past": past}, just_passed("UTC"), port)
        d.start()
        rows, _ = d.history()
        expect_equal(states(rows).get((reminder_id("deadline:ahead", ahead, "10d", "alice"),
                                       "mail")), "sent", "alice's 10d reminder")
        expect_equal(d.stop(), 0, "exit status after SIGTERM")
        rows, _ = d.history()
        expect_equal(states(rows).get((reminder_id("deadline:ahead", ahead, "10d", "bob"),
                                       "webhook:dead")), "queued", "bob's 10d reminder")
        # Two more deadlines, and a send_time two hours ago: "now" is today, so its missed 0d
        # reminder goes at once; "next"'s 3d reminder, missed yesterday, waits for tomorrow's.
        two_hours_ago = dt.datetime.fromtimestamp(time.time() - 7200, ZoneInfo("UTC"))
        now_deadline, next_deadline = today, today + days(2)
        dry_run_config(d, today, {"ahead": ahead, "past": past, "now": now_deadline,
                                  "next": next_deadline},
                       two_hours_ago.strftime("%H:%M:%S"), port)
        before = state_files(d)
        p = subprocess.run([NOTICED, "-c", d.conf, "--dry-run"], env=d.env(),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=TIMEOUT)
        expect_equal(p.returncode, 0, f"exit status of --dry-run ({p.stderr.strip()})")
        expect_equal(state_files(d), before, "the ledger's files after --dry-run")
        lines = p.stdout.splitlines()

        def line(action, rid, channel):
            found = [x for x in lines if x.startswith(action) and f" {rid} {channel}" in x]
            expect(len(found) == 1, f"no one '{action}' line for {rid} {channel}:\n{p.stdout}")
            return found[0]

        for rid, channel in ((reminder_id("deadline:now", now_deadline, "0d", "alice"), "mail"),
                             (reminder_id("deadline:now", now_deadline, "0d", "bob"),
                              "webhook:dead")):
            expect("(missed " in line("queue now", rid, channel), f"{rid}: not a catch-up")
        later = line("queue later", reminder_id("deadline:next", next_deadline, "3d", "alice"),
                     "mail")
        # Today's send_time passed two hours ago: tomorrow's (or, just after midnight, today's).
        when = dt.datetime.fromtimestamp(time.time() - 7200 + 86400, ZoneInfo("UTC"))
        expect(later.startswith(f"queue later     {when.date()} {when.strftime('%H:%M')} UTC "),
               f"the later catch-up does not say when: {later!r}")
        line("leave retrying", reminder_id("deadline:ahead", ahead, "10d", "bob"), "webhook:dead")
        skip = line("skip", reminder_id("deadline:now", now_deadline, "3d", "alice"), "mail")
        expect("superseded" in skip, f"the skip does not say why: {skip!r}")
        expect(not [x for x in lines if reminder_id("deadline:ahead", ahead, "10d", "alice") in x],
               f"a sent reminder is shown:\n{p.stdout}")
        # "next"'s 10d and 20d reminders wait with its 3d for tomorrow's send_time and are
        # skipped then, by that pass, not by the start-up pass.
        expect(not [x for x in lines
                    if reminder_id("deadline:next", next_deadline, "10d", "alice") in x],
               f"a skip of a later pass is shown:\n{p.stdout}")
        expect_equal(lines[-1], "noticed --dry-run: 2 to queue now, 2 to queue later, 6 to skip, "
                                "1 left in the outbox; nothing was written", "the summary line")
        # A config error is 78, a ledger it cannot read 69; neither writes anything.
        bad = subprocess.run([NOTICED, "-c", os.path.join(d.dir, "missing.conf"), "--dry-run"],
                             env=d.env(), capture_output=True, text=True, timeout=TIMEOUT)
        expect_equal(bad.returncode, EX_CONFIG, "exit status of --dry-run with a missing config")
        with open(os.path.join(d.state, "ledger.sqlite"), "r+b") as f:
            f.write(b"not a database, not at all")
        broken = subprocess.run([NOTICED, "-c", d.conf, "--dry-run"], env=d.env(),
                                capture_output=True, text=True, timeout=TIMEOUT)
        expect_equal(broken.returncode, 69, f"exit status of --dry-run with a damaged ledger "
                                            f"({broken.stderr.strip()})")


# --- upcoming: what will really go out, counting the ledger, decisions and catch-up ----------


def upcoming_config(d, today, send_time, hook_port):
    """Alice and bob by mail, carol by mail and a webhook nobody listens on (her webhook
    messages wait to be retried); c1's deadlines "now" (today, at send_time), "later" (in
    three days), "missed" (in two days, its 5d reminder planned three days ago: catch-up) and
    "past" (two days ago: skipped at start); c2's decision in five days."""
    recipients = ",\n".join([
        '  { id = "alice"; name = "Alice"; mail = ["alice@test.example"]; }',
        '  { id = "bob"; name = "Bob"; mail = ["bob@test.example"]; }',
        '  { id = "carol"; name = "Carol"; mail = ["carol@test.example"]; webhooks = ["hook"]; }'])
    deadlines = {"now": today, "later": today + days(3), "missed": today + days(2),
                 "past": today - days(2)}
    items = ",\n".join(f'      {{ id = "{i}"; date = "{x}"; title = "Deadline {i}"; }}'
                       for i, x in deadlines.items())
    decision = today + days(5)
    d.write_config(
        'timezone = "UTC";\n'
        'language = "en";\n'
        'deadline_shift = "none";\n'
        'holidays = { calendar = "none"; };\n'
        f'policy = {{ offsets = ["0d"]; send_time = "{send_time}"; working_days_only = false; }};\n'
        'transports = {\n'
        f'  outbox = {{ url = "maildir:{d.maildir}"; from = "Noticed test <noticed@test.example>"; }};\n'
        f'  hook = {{ url = "http://127.0.0.1:{hook_port}/hook"; }};\n'
        '};\n'
        'mail_via = "outbox";\n'
        f'recipients = (\n{recipients}\n);\n'
        'commitments = (\n'
        '  { id = "c1"; title = "Test commitment";\n'
        f'    start = "{today - days(10)}"; term = "5y"; renewal = "none";\n'
        '    participants = ["alice", "bob", "carol"];\n'
        '    policy = { offsets = ["5d", "0d"]; };\n'
        f'    deadlines = (\n{items}\n    );\n'
        '  },\n'
        '  { id = "c2"; title = "Decided commitment";\n'
        f'    start = "{decision - days(8)}"; term = "10d"; renewal = "none"; notice = "1d";\n'
        '    participants = ["alice", "bob"];\n'
        '  }\n'
        ');\n')
    return deadlines, decision


def upcoming(d, *args):
    out = d.noticectl("upcoming", "--json", *args).stdout
    try:
        return json.loads(out)
    except ValueError as e:
        raise Failure(f"upcoming --json is not JSON ({e}): {out[:500]!r}")


def rows_by_key(rows):
    """{(kind or deadline id, milestone, offset, recipient): row}; one row per key."""
    by = {}
    for r in rows:
        key = (r.get("deadline", r["kind"]), r["milestone"], r["offset"], r["recipient"])
        expect(key not in by, f"two upcoming rows for {key}: {by.get(key)} and {r}")
        by[key] = r
    return by


def test_upcoming_counts_the_ledger_decisions_and_catch_up():
    today = today_in("UTC")
    with Noticed("upcoming") as d:
        due, send_time = due_in_seconds("UTC", today, 6)
        deadlines, decision = upcoming_config(d, today, send_time, closed_port())
        d.start()
        d.noticectl("decide", "c2", "1", "alice", "continue")
        before = rows_by_key(upcoming(d))
        expect(time.time() < due, "upcoming ran after the send time; too slow a machine")
        missed = before.get(("missed", str(deadlines["missed"]), "5d", "alice"))
        expect(missed is not None, f"no catch-up row for the missed 5d reminder: {sorted(before)}")
        expect_equal((missed["state"], missed["catch_up"], parse_rfc3339(missed["at"])),
                     ("due", True, due), "the missed reminder waits for today's send_time")
        expect_equal(parse_rfc3339(missed["planned"]), due - 3 * 86400, "its planned instant (5d before a deadline in two days)")
        expect_equal(missed["title"], "Deadline missed", "a deadline's own title")
        expect(not [k for k in before if k[0] == "past"],
               "a deadline that passed is not upcoming (its reminders were skipped)")
        now = before.get(("now", str(today), "0d", "carol"))
        expect(now is not None and now["channels"] == ["mail", "webhook:hook"]
               and now["state"] == "due" and not now["catch_up"],
               f"carol's reminder for today on both channels: {now}")
        expect(("decision", str(decision), "0d", "bob") in before,
               f"bob, who did not decide, has his decision reminder: {sorted(before)}")
        expect(not [k for k in before if k[0] in ("decision", "notice", "overdue")
                    and k[3] == "alice"],
               f"alice decided: no decision, notice or overdue rows for her: {sorted(before)}")
        # The send time: what went out is gone, carol's webhook waits for its retry.
        n = 2
        message = d.wait_pass(n, timeout=due - time.time() + TIMEOUT)
        while message["_at"] < due:  # a clock set elsewhere on the machine re-planned early
            n += 1
            message = d.wait_pass(n, timeout=due - time.time() + TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        while True:
            rows, _ = d.history()
            hook = [r for r in rows if r["channel"] == "webhook:hook" and r["attempts"] > 0]
            if hook or time.monotonic() > deadline:
                break
            d._receive(0.2)  # the outbox's next datagram, or a fifth of a second
        expect(hook, f"carol's webhook was never tried: {rows}")
        after = upcoming(d)
        keys = rows_by_key(after)
        # At the send time went out: "now" 0d, and the 5d reminders of "missed" and "later"
        # (both planned days ago, caught up).  Only carol's webhook messages are left of them.
        went = [k for k in keys if (k[0], k[2]) in (("now", "0d"), ("missed", "5d"), ("later", "5d"))]
        expect_equal(sorted((k[0], k[3], keys[k]["channels"][0], keys[k]["state"]) for k in went),
                     [("later", "carol", "webhook:hook", "retrying"),
                      ("missed", "carol", "webhook:hook", "retrying"),
                      ("now", "carol", "webhook:hook", "retrying")],
                     "what went out at the send time is not upcoming, but carol's webhook retries")
        expect(("missed", str(deadlines["missed"]), "0d", "alice") in keys,
               f"the missed deadline's own 0d reminder is still to come: {sorted(keys)}")
        carol = [r for r in after if r.get("deadline") == "now"]
        expect_equal([(r["recipient"], r["channels"], r["state"]) for r in carol],
                     [("carol", ["webhook:hook"], "retrying")],
                     "carol's webhook message waits for its retry")
        expect(parse_rfc3339(carol[0]["at"]) > time.time(), "the retry is ahead")
        later = [r for r in after if r.get("deadline") == "later" and r["offset"] == "0d"]
        expect_equal(sorted((r["recipient"], r["state"], parse_rfc3339(r["at"])) for r in later),
                     [(who, "due", due + 3 * 86400) for who in ("alice", "bob", "carol")],
                     "the deadline in three days, at its send time")
        only_bob = upcoming(d, "--recipient", "bob")
        expect(only_bob and all(r["recipient"] == "bob" for r in only_bob),
               f"--recipient bob: {only_bob}")
        only_c2 = upcoming(d, "--commitment", "c2", "--days", "5")
        expect_equal([(r["kind"], r["recipient"]) for r in only_c2],
                     [("decision", "bob"), ("notice", "bob")],
                     "--commitment c2 --days 5: bob's decision and notice reminders (one day), "
                     "not the overdue message the day after")
        table = d.noticectl("upcoming").stdout.splitlines()
        expect(table and table[0].split()[:3] == ["AT", "DAYS", "STATE"],
               f"the table's header: {table[:1]}")
        expect(any(" retrying " in line and " now " in line for line in table),
               f"the table shows the deadline's own id and the retrying state: {table}")

# --- registers: a broken one refuses a reload as a broken config does -------------------------


def test_reload_with_a_broken_register_keeps_the_previous_config():
    today = today_in("UTC")
    with Noticed("reload-register") as d:
        deadline = today + days(10)
        d.config(deadlines_commitment(today, {"first": deadline}))
        good = open(d.conf).read() + 'registers = ( { file = "r.csv"; } );\n'
        row = (f"id,title,start,term,renewal,participants\n"
               f"c2,From the register,{today - days(10)},5y,none,alice\n")
        with open(os.path.join(d.dir, "r.csv"), "w") as f:
            f.write(row)
        d.write_config(good)
        d.start()
        with open(os.path.join(d.dir, "r.csv"), "w") as f:
            f.write(row.replace(",5y,", ",5x,"))
        d.signal(signal.SIGHUP)
        status = d.wait_pass(2)["STATUS"]
        reason = f"{d.dir}/r.csv:2: 'term' = \"5x\" is not a duration"
        expect(status.startswith(f"reload failed: {reason}"), f"STATUS: {status!r}")
        expect(reason in d.stderr_text(), f"the log does not say {reason}:{d.stderr_tail()}")
        with open(os.path.join(d.dir, "r.csv"), "w") as f:
            f.write(row)
        d.signal(signal.SIGHUP)
        status = d.wait_pass(3)["STATUS"]
        expect(status.startswith("next: "), f"a good reload does not clear the failure: {status!r}")
        expect_equal(d.stop(), 0, "exit status after SIGTERM")


TESTS = [
    test_start_catches_up_latest_missed_reminder_only,
    test_restart_delivers_nothing_twice,
    test_timer_delivers_reminder_on_time,
    test_sighup_replans_and_survives_a_broken_config,
    test_sigterm_and_sigint_stop_with_stopping_and_status_0,
    test_decide_stops_reminders_for_that_participant,
    test_overdue_and_escalation_go_out_once,
    test_bad_config_exits_78_before_ready,
    test_unreadable_secret_exits_78_saying_why,
    test_reload_with_an_unreadable_secret_keeps_the_previous_config,
    test_clock_set_replans_without_sending_twice,
    test_reload_with_other_offsets_sends_nothing_twice,
    test_reload_replacing_an_offset_sends_nothing_older,
    test_second_daemon_on_the_same_state_directory_refuses_to_start,
    test_sendmail_delivers_and_a_long_start_keeps_systemd_informed,
    test_sigterm_in_the_middle_of_a_pass_stops_there_and_loses_nothing,
    test_revoke_resumes_reminders_without_resending_the_skipped,
    test_reload_by_the_units_exec_reload_fails_for_a_broken_config_and_sends_no_sighup,
    test_status_counts_come_from_the_ledger_by_the_configs_day_and_survive_a_restart,
    test_missed_reminder_goes_out_at_send_time_not_at_start,
    test_catch_up_and_that_days_reminder_are_one_message,
    test_dry_run_prints_the_start_up_pass_and_writes_nothing,
    test_upcoming_counts_the_ledger_decisions_and_catch_up,
    test_reload_with_a_broken_register_keeps_the_previous_config,
]


def run_tests(suite, tests, argv):
    """Runs the tests named in argv[1:] (all when none), one line each, and a count line
    "SUITE: N passed, N failed"; 1 when any failed, 2 when the binaries are missing.  Shared
    by the integration suites that import this module."""
    for path in (NOTICED, NOTICECTL):
        if not os.access(path, os.X_OK):
            print(f"{suite}: {path} is not an executable (set NOTICED and NOTICECTL)",
                  file=sys.stderr)
            return 2
    selected = [t for t in tests if not argv[1:] or t.__name__[5:] in argv[1:]
                or t.__name__ in argv[1:]]
    passed = failed = skipped = 0
    began = time.monotonic()
    for test in selected:
        name = test.__name__[len("test_"):]
        t0 = time.monotonic()
        try:
            test()
        except Skip as e:
            print(f"skip {name}: {e}", flush=True)
            skipped += 1
        except Failure as e:
            first, _, rest = str(e).partition("\n")
            print(f"FAIL {name}: {first}", flush=True)
            if rest:
                print(rest, file=sys.stderr, flush=True)
            failed += 1
        except Exception as e:
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc()
            failed += 1
        else:
            print(f"ok {name} ({time.monotonic() - t0:.1f} s)", flush=True)
            passed += 1
    print(f"# {time.monotonic() - began:.1f} s", flush=True)
    print(f"{suite}: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


def main(argv):
    return run_tests("daemon", TESTS, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
