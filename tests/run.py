#!/usr/bin/python3
"""make check's runner: one quiet line per test program, the full log only of those that fail,
and proof that the suite left the machine's journal alone.

  tests/run.py LOGDIR PROGRAM...

Each PROGRAM (a cmocka binary, a .sh run by bash, a .py run by /usr/bin/python3) runs from the
current directory with stdin from /dev/null, NOTICED_LOG_TARGET=console exported, and stdout
and stderr in LOGDIR/NAME.log; the expected error: and warning: lines of negative tests, the
per-test lines and the peers' chatter stay there.  The runner prints one line per program,
its counts, PASS or FAIL; a program that fails gets its log printed in full after its line.
A program fails when it exits non-zero, is killed, runs longer than NOTICED_TEST_TIMEOUT
seconds (default 900) or says that a test failed; the runner exits 1 when any failed.

The journal guard: where journalctl exists, the journal's socket exists and journalctl can
read the system journal, the runner notes the journal's last cursor before the first program
and, after the last, fails when any entry appeared that came from noticed, noticectl or one of
the programs (SYSLOG_IDENTIFIER=, _COMM=) or carries one of noticed's MESSAGE_IDs
(include/noticed/log.h).  Entries of a real noticed.service on the machine
(_SYSTEMD_UNIT=noticed.service) are not the suite's and are not counted.  Where there is no
journal it says "skip: no journal here" once.  NOTICED_CHECK_JOURNAL_SOCKET replaces the
socket's path, so that tests/integration/runner.py can show the guard a fake journalctl.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOG_H = os.path.join(TOP, "include", "noticed", "log.h")
JOURNAL_SOCKET = os.environ.get("NOTICED_CHECK_JOURNAL_SOCKET", "/run/systemd/journal/socket")
TIMEOUT = float(os.environ.get("NOTICED_TEST_TIMEOUT", "900"))
OWN_UNIT = "noticed.service"
GUARD = "machine-journal"  # the guard's name in the output and its log's

CMOCKA_RUN = re.compile(r"\[=+\] (\d+) test\(s\) run\.")
CMOCKA_PASSED = re.compile(r"\[  PASSED  \] (\d+) test\(s\)\.")
CMOCKA_FAILED = re.compile(r"\[  FAILED  \] (\d+) test\(s\), listed below")
# The integration tests' last line: "NAME: N passed, M failed[, K skipped]".
SCRIPT_SUMMARY = re.compile(r"^\S+: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$", re.M)


def program_name(path):
    return os.path.basename(path)


def command_of(path):
    if path.endswith(".sh"):
        return ["bash", path]
    if path.endswith(".py"):
        return ["/usr/bin/python3", path]
    return [path if os.sep in path else os.path.join(".", path)]


def counts_of(text):
    """(passed, failed, skipped) as the program reported them, or None when it said nothing."""
    runs = [int(n) for n in CMOCKA_RUN.findall(text)]
    if runs:
        passed = sum(int(n) for n in CMOCKA_PASSED.findall(text))
        failed = sum(int(n) for n in CMOCKA_FAILED.findall(text))
        return passed, max(failed, sum(runs) - passed), 0
    summaries = SCRIPT_SUMMARY.findall(text)
    if summaries:
        passed, failed, skipped = summaries[-1]
        return int(passed), int(failed), int(skipped or 0)
    return None


def describe(counts):
    if counts is None:
        return "no counts printed"
    passed, failed, skipped = counts
    text = f"{passed} passed"
    if failed:
        text += f", {failed} failed"
    if skipped:
        text += f", {skipped} skipped (see the log)"
    return text


def run_program(path, log_path, env):
    """Runs one program into its log; returns (ok, counts, seconds, why)."""
    command = command_of(path)
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        # The command that reruns this program alone, as the README says.
        shown = [f"{k}={env[k]}" for k in ("NOTICED", "NOTICECTL") if env.get(k)]
        log.write("$ " + " ".join(shown + ["NOTICED_LOG_TARGET=console"] + command) + "\n")
        log.flush()
        # A session of its own, so that a program that hangs is stopped with all it started.
        p = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                             start_new_session=True)
        try:
            status = p.wait(timeout=TIMEOUT)
            why = None
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            status = p.wait()
            why = f"killed after {TIMEOUT:g} s (NOTICED_TEST_TIMEOUT)"
    seconds = time.monotonic() - start
    with open(log_path, encoding="utf-8", errors="replace") as log:
        counts = counts_of(log.read())
    if why is None and status < 0:
        why = f"killed by signal {-status}"
    elif why is None and status != 0:
        why = f"exit status {status}"
    elif why is None and counts and counts[1]:
        why = "a test failed, yet the exit status is 0"
    elif why is None and (counts is None or counts[0] + counts[2] == 0):
        # A program that ran no test proves nothing: a test binary built empty, or a script
        # that stopped before its first test, must not pass (all skipped says so, and passes).
        why = "it ran no test" if counts else "it printed no counts"
    return why is None, counts, seconds, why


def print_log(name, log_path):
    print(f"---- {name}: {log_path} ----")
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            sys.stdout.write(line if line.endswith("\n") else line + "\n")
    print(f"---- end of {name} ----")


# ---- the journal guard ----

def message_ids():
    with open(LOG_H, encoding="utf-8") as f:
        return re.findall(r'#define\s+LOG_MESSAGE_\w+\s+"([0-9a-f]{32})"', f.read())


def journalctl(*args):
    return subprocess.run(["journalctl", "--no-pager", "-q", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace")


def journal_begin(log):
    """Returns (cursor or "", None) where there is a journal to watch, else (None, why)."""
    if not shutil.which("journalctl"):
        return None, "no journal here (no journalctl)"
    if not os.path.exists(JOURNAL_SOCKET):
        return None, f"no journal here (no {JOURNAL_SOCKET})"
    p = journalctl("-n", "1", "-o", "json")
    log.write(f"$ journalctl -n 1 -o json: exit {p.returncode}\n{p.stdout}{p.stderr}")
    if p.returncode != 0:
        first = (p.stderr.strip().splitlines() or [f"exit status {p.returncode}"])[0]
        return None, f"the journal is not readable here (journalctl: {first})"
    if re.search(r"insufficient permissions|not seeing messages", p.stderr):
        return None, (f"journalctl sees only part of the journal as uid {os.getuid()}: run as "
                      "root or in group systemd-journal for the journal check")
    cursor = ""
    for line in p.stdout.splitlines():
        try:
            cursor = json.loads(line).get("__CURSOR", cursor)
        except ValueError:
            continue
    return cursor, None


def field_text(value):
    """A field of journalctl -o json: a string, bytes as a list of numbers, or a list of them."""
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, list):
        return " | ".join(field_text(v) for v in value)
    return "" if value is None else str(value)


def journal_entries_since(cursor, names, log):
    """The entries of the suite since cursor ("" when the journal was empty); None if unreadable."""
    identifiers = sorted({"noticed", "noticectl", *names})
    matches = [f"SYSLOG_IDENTIFIER={n}" for n in identifiers] + ["+"]
    matches += [f"_COMM={n[:15]}" for n in identifiers] + ["+"]
    matches += [f"MESSAGE_ID={m}" for m in message_ids()]
    # Until journald has written what it received, an entry of the last test may be missing.
    journalctl("--sync")
    p = journalctl("-o", "json", *([f"--after-cursor={cursor}"] if cursor else []), *matches)
    log.write(f"$ journalctl -o json --after-cursor={cursor} ...: exit {p.returncode}\n"
              f"{p.stdout}{p.stderr}")
    if p.returncode != 0:
        return None
    entries = []
    for line in p.stdout.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if field_text(entry.get("_SYSTEMD_UNIT")) != OWN_UNIT:
            entries.append(entry)
    return entries


def describe_entry(entry):
    who = field_text(entry.get("SYSLOG_IDENTIFIER")) or field_text(entry.get("_COMM")) or "?"
    message_id = field_text(entry.get("MESSAGE_ID"))
    return (f"  {who}[{field_text(entry.get('_PID')) or '?'}]: "
            f"{field_text(entry.get('MESSAGE'))}" + (f" (MESSAGE_ID={message_id})" if message_id else ""))


def main(argv):
    if len(argv) < 2:
        print("usage: tests/run.py LOGDIR PROGRAM...", file=sys.stderr)
        return 64
    log_dir, programs = argv[0], argv[1:]
    os.makedirs(log_dir, exist_ok=True)
    env = dict(os.environ, NOTICED_LOG_TARGET="console")
    names = [program_name(p) for p in programs]
    width = max(len(n) for n in names + [GUARD])
    failed = []

    for old in os.listdir(log_dir):
        if old.endswith(".log"):
            os.unlink(os.path.join(log_dir, old))
    journal_log_path = os.path.join(log_dir, GUARD + ".log")
    with open(journal_log_path, "w", encoding="utf-8") as journal_log:
        cursor, why_not = journal_begin(journal_log)
    if why_not:
        print(f"skip: {why_not}", flush=True)

    for path, name in zip(programs, names):
        log_path = os.path.join(log_dir, name + ".log")
        ok, counts, seconds, why = run_program(path, log_path, env)
        line = f"{'PASS' if ok else 'FAIL'}  {name:<{width}}  {describe(counts):<36} {seconds:6.1f} s"
        print(line + ("" if ok else f"  ({why})"), flush=True)
        if not ok:
            failed.append(name)
            print_log(name, log_path)

    if cursor is not None:
        with open(journal_log_path, "a", encoding="utf-8") as journal_log:
            entries = journal_entries_since(cursor, names, journal_log)
        if entries is None:
            print(f"FAIL  {GUARD:<{width}}  journalctl could not read the journal after the "
                  f"tests; see {journal_log_path}", flush=True)
            failed.append(GUARD)
        elif entries:
            print(f"FAIL  {GUARD:<{width}}  {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
                  " of the tests in the machine's journal since they began:", flush=True)
            for entry in entries:
                print(describe_entry(entry))
            failed.append(GUARD)
        else:
            print(f"PASS  {GUARD:<{width}}  no entry of the tests in the machine's journal",
                  flush=True)

    if failed:
        print(f"make check: {len(failed)} failed: {', '.join(failed)} (logs in {log_dir}/)")
        return 1
    print(f"make check: all {len(programs)} test programs passed" +
          ("; none wrote to the machine's journal" if cursor is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
