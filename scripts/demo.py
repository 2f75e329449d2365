#!/usr/bin/python3
"""make demo: the Twente case, run by the real daemon, with dates moved to today.

The shipped config (etc/noticed/noticed.conf) describes decisions of 2017-2021; run as it is,
every reminder would be long past.  This script writes demo/noticed.conf: the same commitment,
municipalities and policy, but started so that the college's decision deadline falls about
three weeks from today, the one-off deadline in a few days, and mail delivered into a Maildir
under demo/ instead of an SMTP relay.  Then it starts build/noticed --foreground, waits for
READY=1 (the start-up pass has delivered the reminders it owed: catch-up), shows the ledger's
history and one delivered mail, and stops the daemon.  No fake clock: the dates are real.
"""

import datetime
import email
import email.policy
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from zoneinfo import ZoneInfo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "demo")
NOTICED = os.environ.get("NOTICED", os.path.join(ROOT, "build", "noticed"))
NOTICECTL = os.environ.get("NOTICECTL", os.path.join(ROOT, "build", "noticectl"))
READY_TIMEOUT = 60  # seconds; the start-up pass takes milliseconds


def add_months(d, months):
    """d + months with the day clamped to the month's end, as noticed's date module does."""
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    m += 1
    last = (datetime.date(y + (m == 12), m % 12 + 1, 1) - datetime.timedelta(days=1)).day
    return datetime.date(y, m, min(d.day, last))


def demo_config(shipped, today, maildir):
    """The shipped config with its dates moved to today and mail into a Maildir."""
    # Decision = notice − 6w, notice = (start + 2y − 6m) − 1d: aim the decision at today + 21d.
    decision = today + datetime.timedelta(days=21)
    start = add_months(decision + datetime.timedelta(weeks=6, days=1), 6 - 24)
    standpunt = today + datetime.timedelta(days=3)
    transports = ('transports = {\n'
                  '  outbox = { url = "maildir:%s";\n'
                  '             from = "Burgernet Twente <burgernet@twente.example>"; };\n'
                  '};\nmail_via = "outbox";' % maildir)
    text, n1 = re.subn(r'^transports = \{.*?^\};\nmail_via = "relay";', transports, shipped,
                       count=1, flags=re.S | re.M)
    text, n2 = re.subn(r' webhooks = \["enschede-teams"\];', '', text)
    text, n3 = re.subn(r'start = "2019-01-01";', 'start = "%s";' % start, text)
    text, n4 = re.subn(r'date = "2017-11-30";', 'date = "%s";' % standpunt, text)
    # A send_time that has just passed, on any day: a reminder missed while noticed was not
    # running goes out at the next send_time (noticed(8) CATCH-UP), and the demo starts within
    # this one's on-time window, so it shows the catch-up's mail now rather than tomorrow.
    tz = re.search(r'^timezone = "([^"]+)";', text, flags=re.M)
    just_passed = datetime.datetime.now(ZoneInfo(tz.group(1) if tz else "Europe/Amsterdam")) \
        - datetime.timedelta(seconds=2)
    text, n5 = re.subn(r'send_time = "09:00";\n  working_days_only = true;',
                       'send_time = "%s";\n  working_days_only = false;'
                       % just_passed.strftime("%H:%M:%S"), text, count=1)
    if (n1, n2, n3, n4, n5) != (1, 1, 1, 1, 1):
        sys.exit("demo: etc/noticed/noticed.conf changed shape; update scripts/demo.py")
    return ("# Written by `make demo` on %s from etc/noticed/noticed.conf: the same case with\n"
            "# its dates moved, and send_time set to the minute it was written, so that\n"
            "# reminders are due now.  Safe to delete.\n\n" % today) + text


class Notifications:
    """The receiving end of sd_notify: an AF_UNIX datagram socket, as systemd has."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(READY_TIMEOUT)

        self.status = "?"

    def wait_for(self, key):
        """Reads datagrams until one has key; remembers the last STATUS= on the way."""
        while True:
            fields = dict(line.split("=", 1)
                          for line in self.sock.recv(4096).decode().splitlines() if "=" in line)
            self.status = fields.get("STATUS", self.status)
            if key in fields:
                return fields


def show_mail(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    for h in ("From", "To", "Subject", "Date", "Message-ID"):
        print("%s: %s" % (h, msg[h]))
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    print()
    print(text.get_content().rstrip())
    cal = next((p for p in msg.walk() if p.get_content_type() == "text/calendar"), None)
    if cal is not None:
        print("\n[attached: %s, %d bytes]" % (cal.get_content_type(), len(cal.get_content())))


def main():
    today = datetime.date.today()
    shutil.rmtree(DEMO, ignore_errors=True)
    os.makedirs(DEMO)
    maildir = os.path.join(DEMO, "outbox")
    config = os.path.join(DEMO, "noticed.conf")
    with open(os.path.join(ROOT, "etc", "noticed", "noticed.conf")) as f:
        shipped = f.read()
    with open(config, "w") as f:
        f.write(demo_config(shipped, today, maildir))

    env = dict(os.environ, STATE_DIRECTORY=os.path.join(DEMO, "state"),
               NOTIFY_SOCKET=os.path.join(DEMO, "notify.sock"))
    env.pop("JOURNAL_STREAM", None)
    subprocess.run([NOTICECTL, "-c", config, "check"], check=True)
    print("\n== The milestones ahead (noticectl list)")
    subprocess.run([NOTICECTL, "-c", config, "list", "--to",
                    str(add_months(today, 13))], check=True)

    print("\n== Starting %s --foreground (STATE_DIRECTORY=demo/state)" % NOTICED)
    notify = Notifications(env["NOTIFY_SOCKET"])
    # Warnings and errors only: what it did is shown below from the ledger.
    daemon = subprocess.Popen([NOTICED, "--foreground", "--log-level", "warning", "-c", config],
                              env=env)
    try:
        notify.wait_for("READY")
        print("== READY=1; STATUS=%s" % notify.status)
        print("\n== noticectl history: what the start-up pass did (catch-up), for Almelo and"
              " the klankbordgroep")
        for who in ("almelo", "klankbordgroep"):
            subprocess.run([NOTICECTL, "-c", config, "history", "--recipient", who], env=env,
                           check=True)
        print("(all of it: STATE_DIRECTORY=demo/state %s -c demo/noticed.conf history)"
              % os.path.relpath(NOTICECTL, ROOT))
        print("\n== noticectl upcoming: what will really go out in the next two weeks, for Almelo")
        subprocess.run([NOTICECTL, "-c", config, "upcoming", "--days", "14", "--recipient",
                        "almelo"], env=env, check=True)
        mails = sorted(os.listdir(os.path.join(maildir, "new")))
        print("\n== %d mail(s) in demo/outbox/new; one of them:\n" % len(mails))
        if mails:
            show_mail(os.path.join(maildir, "new", mails[0]))
        daemon.send_signal(signal.SIGTERM)
        notify.wait_for("STOPPING")
        status = daemon.wait(timeout=READY_TIMEOUT)
        print("\n== SIGTERM: STOPPING=1, exit status %d" % status)
        return 0 if status == 0 and mails else 1
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


if __name__ == "__main__":
    sys.exit(main())
