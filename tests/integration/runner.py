#!/usr/bin/python3
"""make check's runner (tests/run.py) checked against small programs made here: quiet on
success, a failing program's whole log, an honest exit status, NOTICED_LOG_TARGET=console for
every program, and the journal guard.

The guard is shown a fake journalctl, first on PATH, and a socket path that exists
(NOTICED_CHECK_JOURNAL_SOCKET): the machine's journal is neither read nor written, and the guard
must fail the suite when the fake prints an entry of noticectl.  Everything is written in a
temporary directory.

  /usr/bin/python3 tests/integration/runner.py [NAME...]

Prints "ok NAME" / "FAIL NAME: why" and "runner: N passed, M failed".
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import traceback

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(TOP, "tests", "run.py")
TIMEOUT = 60

CURSOR = "s=0123456789abcdef;i=29;b=fake;m=1;t=5f0;x=2a"
DECIDED = "e3de3a8d279c42869b2f547f4aa74b0a"  # LOG_MESSAGE_DECIDED of include/noticed/log.h

# A journalctl that reads no journal: it writes its arguments to $FAKE_JOURNAL_CALLS, answers
# "-n 1" with one entry carrying CURSOR, and a query with the lines of $FAKE_JOURNAL_ENTRIES.
# $FAKE_JOURNAL_FAIL makes it fail as journalctl does without access.
FAKE_JOURNALCTL = f'''#!/usr/bin/python3
import json, os, sys
with open(os.environ["FAKE_JOURNAL_CALLS"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
if os.environ.get("FAKE_JOURNAL_FAIL"):
    print("Failed to open journal: Permission denied", file=sys.stderr)
    sys.exit(1)
if "--sync" in sys.argv:
    sys.exit(0)
if "-n" in sys.argv:
    print(json.dumps({{"__CURSOR": "{CURSOR}", "MESSAGE": "before"}}))
    sys.exit(0)
with open(os.environ["FAKE_JOURNAL_ENTRIES"]) as f:
    sys.stdout.write(f.read())
'''


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


class Sandbox:
    """A temporary directory with programs to run and, on request, a fake journal."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="noticed-test-runner-")
        self.logs = os.path.join(self.dir, "logs")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_JOURNAL")}
        self.env["NOTICED_CHECK_JOURNAL_SOCKET"] = os.path.join(self.dir, "no-socket")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)

    def program(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path

    def fake_journal(self, entries=(), fail=False):
        bin_dir = os.path.join(self.dir, "bin")
        os.makedirs(bin_dir, exist_ok=True)
        self.program(os.path.join("bin", "journalctl"), FAKE_JOURNALCTL)
        socket_path = os.path.join(self.dir, "journal-socket")
        open(socket_path, "w").close()
        self.calls = os.path.join(self.dir, "calls")
        entries_path = os.path.join(self.dir, "entries")
        with open(entries_path, "w") as f:
            f.writelines(json.dumps(e) + "\n" for e in entries)
        self.env.update(PATH=bin_dir + os.pathsep + self.env.get("PATH", "/usr/bin:/bin"),
                        NOTICED_CHECK_JOURNAL_SOCKET=socket_path, FAKE_JOURNAL_CALLS=self.calls,
                        FAKE_JOURNAL_ENTRIES=entries_path)
        if fail:
            self.env["FAKE_JOURNAL_FAIL"] = "1"

    def journal_calls(self):
        with open(self.calls) as f:
            return [json.loads(line) for line in f]

    def run(self, *programs, env=None):
        p = subprocess.run(["/usr/bin/python3", RUN, self.logs, *programs], cwd=self.dir,
                           env=dict(self.env, **(env or {})), capture_output=True, text=True,
                           timeout=TIMEOUT)
        return p.returncode, p.stdout, p.stderr

    def log(self, name):
        with open(os.path.join(self.logs, name + ".log")) as f:
            return f.read()


CMOCKA_LIKE = """#!/bin/sh
echo '[==========] Running 3 test(s).'
echo '[ RUN      ] test_config_load_bad_dates'
echo 'error: expected, from a negative test' >&2
echo '[       OK ] test_config_load_bad_dates'
echo '[==========] 3 test(s) run.'
echo '[  PASSED  ] 3 test(s).'
"""
SCRIPT_LIKE = """echo "ok - a"
echo "warning: the peer's chatter" >&2
echo "ok - b"
echo "cli: 2 passed, 0 failed"
"""
PYTHON_LIKE = """print("ok one")
print("skip two: needs root")
print("py: 1 passed, 0 failed, 1 skipped")
"""


def test_success_prints_one_line_per_program_and_the_final_line():
    with Sandbox() as s:
        programs = [s.program("test-fake", CMOCKA_LIKE), s.program("cli.sh", SCRIPT_LIKE),
                    s.program("py.py", PYTHON_LIKE)]
        status, out, err = s.run(*programs)
        expect(status == 0, f"exit {status}: {out}{err}")
        lines = out.splitlines()
        expect(len(lines) == 5, f"not 1 skip line, 3 program lines and the final line:\n{out}")
        expect(lines[0].startswith("skip: no journal here"), f"no skip line first:\n{out}")
        for line, name, counts in zip(lines[1:4], ["test-fake", "cli.sh", "py.py"],
                                      ["3 passed", "2 passed", "1 passed, 1 skipped"]):
            expect(re.match(rf"PASS +{re.escape(name)} +{counts}\b", line),
                   f"line of {name} is not PASS with '{counts}': {line!r}")
        expect(lines[4] == "make check: all 3 test programs passed", f"final line: {lines[4]!r}")
        expect("error:" not in out and "warning:" not in out and "[ RUN" not in out,
               f"a program's chatter reached the output:\n{out}")
        expect("error: expected, from a negative test" in s.log("test-fake"),
               "the negative test's error: line is not in its log")
        expect("warning: the peer's chatter" in s.log("cli.sh"), "stderr is not in the log")
        expect(err == "", f"the runner wrote to stderr: {err!r}")


def test_failing_program_prints_its_whole_log_and_fails():
    with Sandbox() as s:
        failing = s.program("daemon.py", "import sys\nprint('ok first')\n"
                            "print('FAIL second: the reason', flush=True)\n"
                            "print('a traceback line', file=sys.stderr)\n"
                            "print('daemon: 1 passed, 1 failed')\nsys.exit(1)\n")
        passing = s.program("cli.sh", SCRIPT_LIKE)
        status, out, _ = s.run(failing, passing)
        expect(status == 1, f"exit {status}, not 1:\n{out}")
        expect(re.search(r"^FAIL +daemon\.py +1 passed, 1 failed .*\(exit status 1\)$", out, re.M),
               f"no FAIL line of daemon.py with its counts:\n{out}")
        log_path = os.path.join(s.logs, "daemon.py.log")
        head = out.find(f"---- daemon.py: {log_path} ----")
        tail = out.find("---- end of daemon.py ----")
        expect(0 <= head < tail, f"the log is not printed between lines naming daemon.py:\n{out}")
        printed = out[head:tail]
        for line in s.log("daemon.py").splitlines():
            expect(line in printed, f"log line {line!r} not printed:\n{out}")
        expect(re.search(r"^PASS +cli\.sh", out, re.M), f"the passing program is not PASS:\n{out}")
        expect("warning: the peer's chatter" not in out, "a passing program's log was printed")
        expect(out.splitlines()[-1].startswith("make check: 1 failed: daemon.py"),
               f"final line does not name the failure: {out.splitlines()[-1]!r}")


def test_a_failed_count_or_a_signal_fails_whatever_the_exit_status():
    with Sandbox() as s:
        lying = s.program("lying.sh", 'echo "lying: 4 passed, 1 failed"\nexit 0\n')
        crashing = s.program("test-crash", "#!/bin/sh\necho '[==========] Running 2 test(s).'\n"
                             "kill -SEGV $$\n")
        cmocka_failed = s.program("test-failed", "#!/bin/sh\n"
                                  "echo '[==========] 2 test(s) run.'\n"
                                  "echo '[  PASSED  ] 1 test(s).'\n"
                                  "echo '[  FAILED  ] 1 test(s), listed below:'\nexit 1\n")
        status, out, _ = s.run(lying, crashing, cmocka_failed)
        expect(status == 1, f"exit {status}, not 1:\n{out}")
        expect(re.search(r"^FAIL +lying\.sh +4 passed, 1 failed .*exit status is 0", out, re.M),
               f"a failed count with exit 0 passed:\n{out}")
        expect(re.search(r"^FAIL +test-crash .*\(killed by signal 11\)$", out, re.M),
               f"a crash is not reported as one:\n{out}")
        expect(re.search(r"^FAIL +test-failed +1 passed, 1 failed", out, re.M),
               f"cmocka's failure is not counted:\n{out}")
        expect("make check: 3 failed: lying.sh, test-crash, test-failed" in out, out)


def test_a_program_that_ran_no_test_fails():
    with Sandbox() as s:
        silent = s.program("silent.sh", 'echo "hello"\nexit 0\n')
        empty = s.program("empty.sh", 'echo "empty: 0 passed, 0 failed"\n')
        skipped = s.program("skipped.sh", 'echo "skipped: 0 passed, 0 failed, 2 skipped"\n')
        status, out, _ = s.run(silent, empty, skipped)
        expect(status == 1, f"exit {status}, not 1:\n{out}")
        expect(re.search(r"^FAIL +silent\.sh .*\(it printed no counts\)$", out, re.M),
               f"a program that printed no counts passed:\n{out}")
        expect(re.search(r"^FAIL +empty\.sh .*\(it ran no test\)$", out, re.M),
               f"a program that ran no test passed:\n{out}")
        expect(re.search(r"^PASS +skipped\.sh +0 passed, 2 skipped", out, re.M),
               f"a program whose tests all skipped (and said so) failed:\n{out}")


def test_every_program_runs_with_the_console_log_target():
    with Sandbox() as s:
        shows = s.program("env.sh", 'echo "target=$NOTICED_LOG_TARGET"\n'
                          'read -r line && echo "stdin had: $line"\necho "env: 1 passed, 0 failed"\n')
        status, out, _ = s.run(shows, env={"NOTICED_LOG_TARGET": "journal"})
        expect(status == 0, f"exit {status}:\n{out}")
        log = s.log("env.sh")
        expect("target=console\n" in log, f"NOTICED_LOG_TARGET is not console:\n{log}")
        expect("stdin had" not in log, "a program can read the runner's stdin")


def test_no_journal_says_skip_once():
    with Sandbox() as s:
        programs = [s.program("a.sh", SCRIPT_LIKE), s.program("b.sh", SCRIPT_LIKE)]
        status, out, _ = s.run(*programs)
        expect(status == 0, f"exit {status}:\n{out}")
        skips = [line for line in out.splitlines() if line.startswith("skip:")]
        expect(len(skips) == 1 and skips[0].startswith("skip: no journal here"),
               f"not one 'skip: no journal here':\n{out}")
        expect("journal" not in out.splitlines()[-1], f"final line claims a journal check:\n{out}")


def test_journal_entry_of_noticectl_fails_the_suite():
    entry = {"__CURSOR": "s=0123456789abcdef;i=30", "SYSLOG_IDENTIFIER": "noticectl",
             "_COMM": "noticectl", "_PID": "4242", "MESSAGE_ID": DECIDED,
             "MESSAGE": "root recorded that hengelo decides to terminate burgernet-twente"}
    with Sandbox() as s:
        s.fake_journal([entry])
        status, out, _ = s.run(s.program("cli.sh", SCRIPT_LIKE))
        expect(status == 1, f"exit {status}, not 1, with an entry of noticectl:\n{out}")
        expect(re.search(r"^FAIL +machine-journal +1 entry of the tests in the machine's journal", out,
                         re.M), f"no FAIL line of the journal check:\n{out}")
        expect("noticectl[4242]: root recorded that hengelo decides to terminate "
               f"burgernet-twente (MESSAGE_ID={DECIDED})" in out, f"the entry is not shown:\n{out}")
        expect("skip:" not in out, f"a journal that is there was skipped:\n{out}")
        expect(out.splitlines()[-1].startswith("make check: 1 failed: machine-journal"), out)
        query = s.journal_calls()[-1]
        expect(f"--after-cursor={CURSOR}" in query, f"not asked after the first cursor: {query}")
        for match in ["SYSLOG_IDENTIFIER=noticed", "SYSLOG_IDENTIFIER=noticectl",
                      "SYSLOG_IDENTIFIER=cli.sh", "_COMM=noticed", "_COMM=noticectl",
                      f"MESSAGE_ID={DECIDED}", "MESSAGE_ID=0fa10a37602f49ffb6cea0838f00ca64"]:
            expect(match in query, f"{match} is not asked for: {query}")


def test_journal_entry_with_only_a_message_id_fails_the_suite():
    # Another process (a test binary run under another name) logged one of noticed's events;
    # its MESSAGE is bytes, as journalctl -o json prints a field that is not text.
    entry = {"_COMM": "python3", "MESSAGE_ID": "5aa1135fb76741c38384578e741dcde3",
             "MESSAGE": list(b"reminder failed\x01")}
    with Sandbox() as s:
        s.fake_journal([entry])
        status, out, _ = s.run(s.program("cli.sh", SCRIPT_LIKE))
        expect(status == 1, f"exit {status}, not 1:\n{out}")
        expect("python3[?]: reminder failed" in out, f"the entry is not shown:\n{out}")


def test_journal_without_entries_passes_and_says_so():
    with Sandbox() as s:
        # A real noticed.service of the machine is not the suite's doing.
        s.fake_journal([{"SYSLOG_IDENTIFIER": "noticed", "_SYSTEMD_UNIT": "noticed.service",
                         "MESSAGE": "reminder sent"}])
        status, out, _ = s.run(s.program("cli.sh", SCRIPT_LIKE))
        expect(status == 0, f"exit {status}:\n{out}")
        expect(re.search(r"^PASS +machine-journal +no entry of the tests", out, re.M), out)
        expect(out.splitlines()[-1] == "make check: all 1 test programs passed; none wrote to "
               "the machine's journal", f"final line: {out.splitlines()[-1]!r}")
        calls = s.journal_calls()
        expect(calls[0][-4:] == ["-n", "1", "-o", "json"], f"first call: {calls[0]}")
        expect(any("--sync" in c for c in calls), f"journald was not asked to sync: {calls}")


def test_unreadable_journal_is_skipped_saying_why():
    with Sandbox() as s:
        s.fake_journal(fail=True)
        status, out, _ = s.run(s.program("cli.sh", SCRIPT_LIKE))
        expect(status == 0, f"exit {status}:\n{out}")
        expect(out.splitlines()[0] == "skip: the journal is not readable here (journalctl: "
               "Failed to open journal: Permission denied)", f"first line:\n{out}")
        expect(out.count("skip:") == 1, out)


def test_make_runs_every_integration_test_but_the_helpers():
    with Sandbox() as s:
        p = subprocess.run(["make", "-n", "-s", "--no-print-directory",
                            f"BUILD={os.path.join(s.dir, 'build')}", "check-run"], cwd=TOP,
                           capture_output=True, text=True, timeout=TIMEOUT)
        expect(p.returncode == 0, f"make -n check-run: exit {p.returncode}: {p.stderr}")
        commands = p.stdout.replace("\\\n", " ").splitlines()
        line = next((c for c in commands if "tests/run.py" in c), "")
        for name in sorted(os.listdir(os.path.join(TOP, "tests", "integration"))):
            path = f"tests/integration/{name}"
            if name == "check-mail.py":
                expect(path not in line, f"the helper {path} is run as a test: {line}")
            elif name.endswith((".sh", ".py")):
                expect(path in line, f"{path} is not run: {line}")
        expect("peers" not in line, f"a peer is run as a test: {line}")
        expect("test-logs" in line, f"logs are not under $(BUILD)/test-logs: {line}")


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_")]


def main(argv):
    selected = [t for t in TESTS if not argv[1:] or t.__name__[5:] in argv[1:]]
    passed = failed = 0
    for test in selected:
        name = test.__name__[len("test_"):]
        try:
            test()
        except Failure as e:
            print(f"FAIL {name}: {e}", flush=True)
            failed += 1
        except Exception as e:
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc()
            failed += 1
        else:
            print(f"ok {name}", flush=True)
            passed += 1
    print(f"runner: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
