#!/usr/bin/python3
"""noticed's log lines as journald receives them: structured fields and MESSAGE_IDs.

journald itself does not run here, and its socket path is fixed in libsystemd.  So the test
enters a private mount namespace (unshare -m), mounts a tmpfs on /run there — the machine's own
/run is untouched — and binds /run/systemd/journal/socket itself: a real peer speaking the
journal's native protocol.  noticed runs inside with stderr in a file whose device:inode is in
JOURNAL_STREAM, as systemd's StandardError=journal does, so it must log through the journal
and leave stderr empty.

  NOTICED=build/noticed /usr/bin/python3 tests/integration/journal.py

Prints "ok NAME" / "FAIL NAME: why" / "skip NAME: why" and "journal: N passed, M failed".
Needs root (unshare -m); without it the tests are reported as skipped, never as passed.
"""

import datetime as dt
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTICED = os.path.abspath(os.environ.get("NOTICED", os.path.join(TOP, "build", "noticed")))
NOTICECTL = os.path.abspath(os.environ.get("NOTICECTL",
                                           os.path.join(os.path.dirname(NOTICED), "noticectl")))
TIMEOUT = 10

# From include/noticed/log.h: fixed forever, documented in noticed(8).
SENT = "0fa10a37602f49ffb6cea0838f00ca64"
SKIPPED = "9815dedfd27f41ea891f02d507cd90c1"
RELOAD_FAILED = "fce5c2a21d4b444fb14d0cdb62abc6d4"
DECIDED = "e3de3a8d279c42869b2f547f4aa74b0a"
REVOKED = "6c087fda24124aedaa80ca45812a3d1a"


def parse_native(datagram):
    """The journal's native protocol: KEY=VALUE lines, or KEY, a 64-bit LE size and raw bytes."""
    fields, i = {}, 0
    while i < len(datagram):
        nl = datagram.index(b"\n", i)
        line = datagram[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = nl + 1
        else:
            key = line
            (size,) = struct.unpack_from("<Q", datagram, nl + 1)
            value = datagram[nl + 9:nl + 9 + size]
            i = nl + 9 + size + 1
        fields[key.decode()] = value.decode()
    return fields


def config(maildir, today):
    ahead, past = today + dt.timedelta(days=5), today - dt.timedelta(days=2)
    # A send_time just passed: the start is on time for it, so the missed 10d reminder goes out
    # at once rather than at tomorrow's send_time.
    send_time = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=2)).strftime("%H:%M:%S")
    return f'''timezone = "UTC";
holidays = {{ calendar = "none"; }};
policy = {{ offsets = ["10d"]; send_time = "{send_time}"; working_days_only = false; }};
transports = {{ box = {{ url = "maildir:{maildir}"; from = "Noticed <noticed@x.example>"; }}; }};
mail_via = "box";
recipients = ( {{ id = "alice"; name = "Alice"; mail = ["alice@x.example"]; }} );
commitments = ( {{ id = "c1"; title = "C1"; start = "2020-01-01"; term = "50y"; renewal = "none";
  notice = "1m"; participants = ["alice"]; deadline_shift = "none";
  deadlines = ( {{ id = "ahead"; date = "{ahead}"; title = "Ahead"; }},
                {{ id = "past"; date = "{past}"; title = "Past"; }} ); }} );
'''


def inside(tmp):
    """In the private mount namespace: the journal peer, the daemon, the checks."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"], check=True)
    os.makedirs("/run/systemd/journal")
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind("/run/systemd/journal/socket")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(os.path.join(tmp, "notify"))
    notify.settimeout(TIMEOUT)

    today = dt.datetime.now(dt.timezone.utc).date()
    conf = os.path.join(tmp, "noticed.conf")
    with open(conf, "w") as f:
        f.write(config(os.path.join(tmp, "maildir"), today))
    stderr = open(os.path.join(tmp, "stderr"), "w+")
    st = os.fstat(stderr.fileno())
    # auto: the make check that runs this may say console for every other program.
    env = dict(os.environ, STATE_DIRECTORY=os.path.join(tmp, "state"),
               NOTIFY_SOCKET=os.path.join(tmp, "notify"),
               JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}", NOTICED_LOG_TARGET="auto")
    daemon = subprocess.Popen([NOTICED, "--foreground", "-c", conf], env=env, stderr=stderr)

    def wait_for(key):
        while True:
            lines = notify.recv(4096).decode().splitlines()
            if any(line.startswith(key + "=") for line in lines):
                return

    results = []

    def check(name, condition, why):
        results.append((name, condition, why))

    try:
        wait_for("READY")
        with open(conf, "a") as f:
            f.write("this is not a setting\n")
        daemon.send_signal(signal.SIGHUP)
        wait_for("READY")  # after RELOADING=1: the reload has been answered
        daemon.send_signal(signal.SIGTERM)
        status = daemon.wait(timeout=TIMEOUT)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()

    journal.setblocking(False)

    def drain():
        got = []
        while True:
            try:
                got.append(parse_native(journal.recv(65536)))
            except BlockingIOError:
                return got

    entries = drain()
    stderr.seek(0)
    leftover = stderr.read()
    # The reload test broke conf: noticectl reads a good copy.
    good = os.path.join(tmp, "good.conf")
    with open(good, "w") as f:
        f.write(config(os.path.join(tmp, "maildir"), today))
    results += decide_and_revoke(good, env, drain)

    ahead = today + dt.timedelta(days=5)
    sent = [e for e in entries if e.get("MESSAGE_ID") == SENT]
    want = {"COMMITMENT": "c1", "MILESTONE": str(ahead), "CYCLE": "0", "RECIPIENT": "alice",
            "CHANNEL": "mail", "REMINDER_ID": f"c1/deadline:ahead/0/{ahead}/10d/alice",
            "PRIORITY": "6", "SYSLOG_IDENTIFIER": "noticed", "CODE_FILE": "daemon/outbox-record.c"}
    check("sent_reminder_carries_its_fields",
          len(sent) == 1 and all(sent[0].get(k) == v for k, v in want.items()),
          f"sent entries: {sent}")
    skipped = [e for e in entries if e.get("MESSAGE_ID") == SKIPPED]
    check("skipped_reminder_is_logged_with_its_id",
          len(skipped) == 1 and skipped[0].get("REMINDER_ID", "").startswith("c1/deadline:past/")
          and skipped[0].get("PRIORITY") == "5",
          f"skipped entries: {skipped}")
    failed_reload = [e for e in entries if e.get("MESSAGE_ID") == RELOAD_FAILED]
    check("reload_failure_names_file_and_line",
          any(e.get("MESSAGE", "").startswith(f"{conf}:") and e.get("PRIORITY") == "3"
              for e in failed_reload),
          f"reload-failed entries: {failed_reload}")
    check("stderr_stays_empty_when_it_is_the_journal", leftover == "", repr(leftover[:300]))
    check("stops_with_status_0", status == 0, f"exit status {status}")
    return results


def decide_and_revoke(conf, daemon_env, drain):
    """noticectl's decide and revoke, run after the daemon: their copies in the journal carry
    the unit journalctl -u matches, and NOTICED_LOG_TARGET picks where they go."""
    results = []
    env = {k: v for k, v in daemon_env.items() if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET")}

    def ctl(*args, target="auto"):
        return subprocess.run([NOTICECTL, "-c", conf, *args], capture_output=True, text=True,
                              env=dict(env, NOTICED_LOG_TARGET=target), timeout=TIMEOUT)

    decide = ctl("decide", "c1", "1", "alice", "terminate", "--note", "B&W")
    revoke = ctl("revoke", "c1", "1", "alice", "--note", "by mistake")
    entries = drain()
    fields = {"COMMITMENT": "c1", "CYCLE": "1", "RECIPIENT": "alice", "PRIORITY": "5",
              "SYSLOG_IDENTIFIER": "noticectl", "OBJECT_SYSTEMD_UNIT": "noticed.service"}
    for name, message_id, run, text in (
            ("decide", DECIDED, decide, "decides to terminate c1 (cycle 1): B&W"),
            ("revoke", REVOKED, revoke, "revoked alice's decision to terminate c1 (cycle 1): "
             "by mistake")):
        got = [e for e in entries if e.get("MESSAGE_ID") == message_id]
        results.append((f"{name}_logs_to_the_journal_with_its_unit_and_fields",
                        run.returncode == 0 and len(got) == 1
                        and all(got[0].get(k) == v for k, v in fields.items())
                        and text in got[0].get("MESSAGE", ""),
                        f"exit {run.returncode}, stderr {run.stderr!r}, entries {got}"))
        results.append((f"{name}_leaves_stderr_empty_when_it_logs_to_the_journal",
                        run.stderr == "", repr(run.stderr)))

    # console: the copy is a line on stderr, and the journal gets nothing.
    decide = ctl("decide", "c1", "1", "alice", "continue", target="console")
    entries = drain()
    results.append(("log_target_console_keeps_decide_off_the_journal",
                    decide.returncode == 0 and entries == []
                    and "decides to continue c1 (cycle 1)" in decide.stderr,
                    f"exit {decide.returncode}, stderr {decide.stderr!r}, entries {entries}"))
    # journal: even a daemon on a terminal logs there (here: its refusal of a missing config).
    missing = os.path.join(os.path.dirname(conf), "missing.conf")
    daemon = subprocess.run([NOTICED, "--foreground", "-c", missing], capture_output=True,
                            text=True, env=dict(env, NOTICED_LOG_TARGET="journal"),
                            timeout=TIMEOUT)
    entries = drain()
    results.append(("log_target_journal_sends_a_daemon_on_a_terminal_to_the_journal",
                    daemon.returncode != 0 and daemon.stderr == ""
                    and any(missing in e.get("MESSAGE", "") for e in entries),
                    f"exit {daemon.returncode}, stderr {daemon.stderr!r}, entries {entries}"))
    return results


def main():
    if os.environ.get("NOTICED_JOURNAL_INSIDE"):
        passed = failed = 0
        for name, condition, why in inside(os.environ["NOTICED_JOURNAL_INSIDE"]):
            if condition:
                print(f"ok {name}")
                passed += 1
            else:
                print(f"FAIL {name}: {why}")
                failed += 1
        print(f"journal: {passed} passed, {failed} failed")
        return 1 if failed else 0
    with tempfile.TemporaryDirectory(prefix="noticed-journal-") as tmp:
        env = dict(os.environ, NOTICED_JOURNAL_INSIDE=tmp)
        probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            print(f"skip journal: cannot enter a mount namespace ({probe.stderr.strip()})")
            print("journal: 0 passed, 0 failed, 1 skipped")
            return 0
        return subprocess.run(["unshare", "--mount", "--propagation", "private",
                               sys.executable, os.path.abspath(__file__)], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
