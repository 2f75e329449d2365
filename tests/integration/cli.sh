#!/usr/bin/env bash
# noticectl as users run it: exit codes, messages, tables and the golden JSON of the Twente case.
# Runs the built binary ($NOTICECTL) against the shipped config and small configs made here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
noticectl=${NOTICECTL:-$top/build/noticectl}
[[ $noticectl = /* ]] || noticectl=$top/$noticectl
conf=$top/etc/noticed/noticed.conf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
# decide and revoke copy what they record to the journal: here it goes to stderr, never to the
# machine's journal, also when this script is run by hand (tests/run.py exports it too).
export NOTICED_LOG_TARGET=console

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && sed 's/^/#   /' <<<"$2"; }

# run NAME EXPECTED_STATUS CMD...: runs CMD, keeps stdout/stderr in $out/$err, checks the status.
run() {
        local name=$1 want=$2; shift 2
        "$@" >"$tmp/out" 2>"$tmp/err"
        status=$?
        out=$(cat "$tmp/out") err=$(cat "$tmp/err")
        if [ "$status" -eq "$want" ]; then ok "$name"; else not_ok "$name (exit $status, wanted $want)" "$err"; fi
}
contains() { # NAME HAYSTACK NEEDLE
        if grep -qF -- "$3" <<<"$2"; then ok "$1"; else not_ok "$1" "missing: $3"; fi
}
same_file() { # NAME EXPECTED ACTUAL
        if diff -u "$2" "$3" >"$tmp/diff"; then ok "$1"; else not_ok "$1" "$(head -40 "$tmp/diff")"; fi
}

# --- golden JSON of the founding case (review changes to these files line by line) ---
"$noticectl" -c "$conf" list --from 2017-11-01 --to 2021-12-31 --json >"$tmp/list.json"
same_file "list --json of the Twente case matches tests/golden/list-twente.json" \
        "$top/tests/golden/list-twente.json" "$tmp/list.json"
"$noticectl" -c "$conf" simulate --from 2017-11-01 --to 2021-12-31 --json >"$tmp/sim.json"
same_file "simulate --json of the Twente case matches tests/golden/simulate-twente.json" \
        "$top/tests/golden/simulate-twente.json" "$tmp/sim.json"
for f in list sim; do
        if /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/$f.json" 2>"$tmp/err"; then
                ok "$f output is one valid JSON document"
        else not_ok "$f output is one valid JSON document" "$(cat "$tmp/err")"; fi
done
run "simulate over an empty range prints an empty JSON array" 0 \
        "$noticectl" -c "$conf" simulate --from 2030-01-01 --to 2030-01-01 --json
[ "$out" = "[]" ] && ok "empty JSON array is []" || not_ok "empty JSON array is []" "$out"

# --- check ---
run "check accepts the shipped config" 0 "$noticectl" -c "$conf" check
contains "check reports what it loaded" "$out" "1 commitment, 16 recipients"
run "check accepts the schema example of DESIGN.md" 0 "$noticectl" -c "$here/design-example.conf" check
run "check of a missing file exits 78" 78 "$noticectl" -c "$tmp/nope.conf" check
contains "a missing file is named with the reason" "$err" "$tmp/nope.conf: No such file or directory"
cat >"$tmp/bad.conf" <<'CONF'
recipients = (
  { id = "a"; name = "A"; mail = ["a@x.example"]; population = -3; }
);
commitments = (
  { id = "c"; title = "C"; start = "2019-02-30"; term = "2q"; renewal = "tacit"; notice = "6m";
    participants = ["a", "b"]; colour = "red"; }
);
CONF
run "check of a config with errors exits 78" 78 "$noticectl" -c "$tmp/bad.conf" check
contains "every error is reported: population" "$err" "$tmp/bad.conf:2: population -3 must be between 0 and 1000000000"
contains "every error is reported: mail_via" "$err" "$tmp/bad.conf:2: recipient 'a' has mail addresses but no mail_via transport is set"
contains "every error is reported: date" "$err" "$tmp/bad.conf:5: '2019-02-30' is not a date"
contains "every error is reported: duration" "$err" "$tmp/bad.conf:5: 'term' = \"2q\" is not a duration"
contains "every error is reported: unknown recipient" "$err" "$tmp/bad.conf:6: participants: unknown recipient 'b'"
contains "every error is reported: unknown key" "$err" "$tmp/bad.conf:6: unknown key 'colour' in commitment"
# The delivery keys name files that are checked as the config is loaded.
printf 's3cret\n' >"$tmp/pw"
chmod 640 "$tmp/pw"
cat >"$tmp/delivery.conf" <<CONF
transports = {
  relay = { url = "smtps://smtp.example.org"; from = "n@x.example"; username = "u";
            password_file = "$tmp/pw"; ca_file = "$tmp/nope.pem"; };
  local = { url = "maildir:$tmp/outbox"; ca_file = "$tmp/pw"; };
};
mail_via = "relay";
retry_base = "5x";
stop_timeout = "0s";
recipients = ( { id = "a"; name = "A"; mail = ["a@x.example"]; } );
commitments = ( { id = "c"; title = "C"; start = "2019-01-01"; term = "2y"; renewal = "none";
                  participants = ["a"]; } );
CONF
run "check of wrong delivery keys exits 78" 78 "$noticectl" -c "$tmp/delivery.conf" check
contains "a password_file others can read is refused with its mode" "$err" \
        "$tmp/delivery.conf:3: password_file '$tmp/pw' is readable by group or others (mode 0640); chmod 600 it"
contains "a missing ca_file is named with the reason" "$err" \
        "$tmp/delivery.conf:3: cannot read ca_file '$tmp/nope.pem': No such file or directory"
contains "a ca_file on a maildir transport is refused" "$err" \
        "$tmp/delivery.conf:4: 'ca_file' applies only to transports that use TLS: smtp://, smtps:// and https://"
contains "a bad time span says what a time span is" "$err" \
        "$tmp/delivery.conf:7: retry_base \"5x\": a time span is a number and s, m (minutes), h or d"
chmod 600 "$tmp/pw"
sed -e "s|$tmp/nope.pem|$tmp/pw|" -e "/maildir:/s|ca_file = [^;]*; ||" -e 's|"5x"|"90s"|' \
        "$tmp/delivery.conf" >"$tmp/delivery-fixed.conf"
run "check accepts the delivery keys once they are right" 0 "$noticectl" -c "$tmp/delivery-fixed.conf" check
printf 'recipients = (\n  { id = "a" \n);\n' >"$tmp/syntax.conf"
run "a syntax error exits 78" 78 "$noticectl" -c "$tmp/syntax.conf" check
contains "a syntax error names file and line" "$err" "$tmp/syntax.conf:3: syntax error"

# --- usage ---
run "--help exits 0" 0 "$noticectl" --help
contains "--help lists the commands" "$out" "simulate --from D --to D [--json]"
run "--version exits 0" 0 "$noticectl" --version
contains "--version names the program" "$out" "noticectl "
run "no command is a usage error" 64 "$noticectl" -c "$conf"
run "an unknown command is a usage error" 64 "$noticectl" -c "$conf" frobnicate
run "an unknown option is a usage error" 64 "$noticectl" -c "$conf" list --frob
run "a bad --from date is a usage error" 64 "$noticectl" -c "$conf" list --from 2019-02-30
contains "a bad date is named" "$err" "--from '2019-02-30' is not a date"
run "simulate without --to is a usage error" 64 "$noticectl" -c "$conf" simulate --from 2020-01-01
run "--from after --to is a usage error" 64 "$noticectl" -c "$conf" list --from 2021-01-01 --to 2020-01-01
run "a stray argument is a usage error" 64 "$noticectl" -c "$conf" list extra
run "a bad --today is a usage error" 64 "$noticectl" -c "$conf" --today tomorrow list
run "list --to before today is a usage error" 64 "$noticectl" -c "$conf" --today 2020-05-01 list --to 2020-01-01
contains "list --to before today says so" "$err" "--to is before today (2020-05-01); give --from too"
for cmd in check list simulate; do
        run "$cmd --help prints help" 0 "$noticectl" -c "$conf" $cmd --help
done
run "a directory as config is a config error, not a crash" 78 "$noticectl" -c "$tmp" check
contains "a directory as config is named" "$err" "$tmp: Is a directory"

# --- tables for people ---
run "list defaults to today .. today + 2y" 0 "$noticectl" -c "$conf" --today 2020-05-01 list
contains "list shows the Dutch weekday and days from today" "$out" "di  2020-05-19     +18  decision       1  2019-01-01 – 2020-12-31  burgernet-twente"
contains "list reaches two years ahead" "$out" "2021-12-31"
contains "list ends with how many rows over which dates" "$out" "10 milestones from 2020-05-01 to 2022-05-01"
dates=$(awk 'NR > 1 && $2 ~ /^[0-9]/ { print $2 }' <<<"$out")
if [ "$(head -1 <<<"$dates")" = 2020-05-19 ] && [ "$(tail -1 <<<"$dates")" = 2022-01-01 ]; then
        ok "list stays inside today .. today + 2y (2020-05-01 .. 2022-05-01)"
else not_ok "list stays inside today .. today + 2y (2020-05-01 .. 2022-05-01)" "$dates"; fi
run "simulate prints a table" 0 "$noticectl" -c "$conf" --today 2020-04-01 simulate --from 2020-04-17 --to 2020-04-17
contains "simulate shows what Enschede pays a year" "$out" "enschede             € 12.660,88 – € 15.826,10   mail,webhook:enschede-teams"
contains "simulate ends with the number of reminders" "$out" "14 reminders from 2020-04-17 to 2020-04-17"
contains "simulate shows the 30d decision reminder moved off Sunday to Friday" "$out" "vr  2020-04-17 09:00     +16  decision       1  2019-01-01 – 2020-12-31  burgernet-twente       2020-05-19    30d  almelo"

# --- the ledger: decide and history (STATE_DIRECTORY points at a fresh directory) ---
# A fixed today, as decide refuses a cycle long past.
export STATE_DIRECTORY=$tmp/state
mkdir -p "$STATE_DIRECTORY"
run "history before any ledger exists prints an empty trail" 0 "$noticectl" -c "$conf" history --json
contains "history says there is no ledger yet" "$err" "no ledger at $STATE_DIRECTORY/ledger.sqlite yet"
if [ "$out" = "[]" ] && [ ! -e "$STATE_DIRECTORY/ledger.sqlite" ]; then ok "history leaves no ledger behind"
else not_ok "history leaves no ledger behind" "$out"; fi
run "decide refuses an unknown commitment" 65 "$noticectl" -c "$conf" decide nope 1 enschede continue
contains "decide says the commitment is unknown" "$err" "nope cycle 1 enschede: no such commitment in the config"
run "decide refuses a recipient that is not a participant" 65 "$noticectl" -c "$conf" decide burgernet-twente 1 klankbordgroep continue
contains "decide says who is not a participant" "$err" "not a participant of the commitment"
run "decide refuses cycle 0" 64 "$noticectl" -c "$conf" decide burgernet-twente 0 enschede continue
run "decide refuses a cycle that is not a number" 64 "$noticectl" -c "$conf" decide burgernet-twente one enschede continue
run "decide refuses a word other than continue or terminate" 64 "$noticectl" -c "$conf" decide burgernet-twente 1 enschede maybe
run "decide refuses a note with a line break" 65 "$noticectl" -c "$conf" decide burgernet-twente 1 enschede continue --note $'a\nb'
if [ ! -e "$STATE_DIRECTORY/ledger.sqlite" ]; then ok "refused decisions leave no ledger behind"
else not_ok "refused decisions leave no ledger behind"; fi
sed 's|# terminated = "2020-06-15";|terminated = "2020-06-15";|' "$conf" >"$tmp/terminated.conf"
run "decide refuses a cycle after the one notice ended" 65 env STATE_DIRECTORY="$tmp/state-terminated" "$noticectl" -c "$tmp/terminated.conf" decide burgernet-twente 2 enschede continue
contains "decide says the cycle does not exist" "$err" "the commitment has no such cycle"
run "decide takes the last cycle of a terminated commitment" 0 env STATE_DIRECTORY="$tmp/state-terminated" "$noticectl" -c "$tmp/terminated.conf" --today 2020-05-01 decide burgernet-twente 1 hengelo terminate
run "decide records a decision" 0 "$noticectl" -c "$conf" --today 2020-05-01 decide burgernet-twente 2 enschede terminate --note "B&W 12 mei"
contains "decide says what it recorded and by whom" "$out" "Recorded: enschede decides to terminate burgernet-twente (cycle 2), by $(id -un)"
mode=$(stat -c %a "$STATE_DIRECTORY/ledger.sqlite")
if [ "$mode" = 600 ]; then ok "the ledger is created with mode 0600"; else not_ok "the ledger is created with mode 0600" "$mode"; fi
run "decide takes the note before the words too" 0 "$noticectl" -c "$conf" --today 2020-05-01 decide --note "raad" burgernet-twente 2 almelo continue
run "history --json lists the decisions" 0 "$noticectl" -c "$conf" history --json
if /usr/bin/python3 - "$out" "$(id -un)" <<'PY' 2>"$tmp/err"; then ok "history --json has both decisions, oldest first, with user and note"; else not_ok "history --json has both decisions, oldest first, with user and note" "$(cat "$tmp/err")"; fi
import json, sys
rows = json.loads(sys.argv[1])
assert [r["participant"] for r in rows] == ["enschede", "almelo"], rows
assert rows[0] == {**rows[0], "type": "decision", "commitment": "burgernet-twente", "cycle": 2,
                   "decision": "terminate", "note": "B&W 12 mei", "user": sys.argv[2]}, rows[0]
assert rows[1]["decision"] == "continue" and rows[1]["note"] == "raad", rows[1]
PY
run "history prints a table" 0 "$noticectl" -c "$conf" history
contains "history's table shows the decision with its note" "$out" "terminate door $(id -un): B&W 12 mei"
contains "history's table ends with a count" "$out" "0 reminder rows, 2 decisions"
run "history --commitment filters" 0 "$noticectl" -c "$conf" history --commitment other --json
if [ "$out" = "[]" ]; then ok "history --commitment of another commitment is empty"; else not_ok "history --commitment of another commitment is empty" "$out"; fi
{ cat "$conf"; echo "broken = ;"; } >"$tmp/broken.conf"
run "history reads the ledger even when the config is broken" 0 "$noticectl" -c "$tmp/broken.conf" history --json
contains "history says why it shows UTC" "$err" "the config has errors; showing times in UTC"
contains "history shows the decisions with UTC times" "$out" '+00:00","commitment":"burgernet-twente","cycle":2,"participant":"enschede"'
unset STATE_DIRECTORY

# --- export-ics ---
run "export-ics of one commitment over a year" 0 "$noticectl" -c "$conf" export-ics burgernet-twente --from 2020-01-01 --to 2020-12-31
printf '%s\n' "$out" >"$tmp/twente.ics"
if /usr/bin/python3 - "$tmp/twente.ics" <<'PY' 2>"$tmp/err"; then ok "export-ics is a calendar python3-icalendar reads, one event per milestone"; else not_ok "export-ics is a calendar python3-icalendar reads, one event per milestone" "$(cat "$tmp/err")"; fi
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
assert str(cal["METHOD"]) == "PUBLISH", cal.get("METHOD")
events = [c for c in cal.walk("VEVENT")]
dates = sorted(str(e.decoded("DTSTART")) for e in events)
# 2020: decision 05-19, notice 06-30, term_end 12-31, reviews 01-01 and 07-01.
assert dates == ["2020-01-01", "2020-05-19", "2020-06-30", "2020-07-01", "2020-12-31"], dates
assert all(e.walk("VALARM") for e in events), "an event without an alarm"
assert len({str(e["UID"]) for e in events}) == len(events), "UIDs repeat"
PY
run "export-ics refuses an unknown commitment" 65 "$noticectl" -c "$conf" export-ics nope

# --- decide shows and checks its cycle; revoke appends a revocation (NOTICED_LOG_TARGET=console:
# the journal's copy is on stderr, captured by run) ---
export STATE_DIRECTORY=$tmp/state-revoke
mkdir -p "$STATE_DIRECTORY"
run "revoke without a ledger refuses" 65 "$noticectl" -c "$conf" revoke burgernet-twente 2 enschede
contains "revoke says there is nothing to revoke" "$err" "burgernet-twente cycle 2 enschede: no decision of theirs stands, so there is nothing to revoke"
if [ ! -e "$STATE_DIRECTORY/ledger.sqlite" ]; then ok "a refused revoke leaves no ledger behind"
else not_ok "a refused revoke leaves no ledger behind"; fi
run "decide refuses a cycle whose notice deadline passed more than 30 days ago" 65 "$noticectl" -c "$conf" --today 2021-08-01 decide burgernet-twente 2 enschede terminate
contains "decide says why and that --force overrides" "$err" "burgernet-twente cycle 2 enschede: its notice deadline 2021-06-30 passed more than 30 days ago (today is 2021-08-01); --force records it anyway"
contains "the refusal shows the cycle's dates" "$err" "cycle 2: 2021-01-01 – 2021-12-31, decision by 2021-05-19, notice by 2021-06-30"
run "decide takes a notice deadline passed 30 days ago" 0 "$noticectl" -c "$conf" --today 2021-07-30 decide burgernet-twente 2 almelo continue
run "decide refuses a cycle more than one cycle ahead" 65 "$noticectl" -c "$conf" --today 2020-05-01 decide burgernet-twente 3 enschede terminate
contains "decide says the cycle is too far ahead" "$err" "it starts 2022-01-01, more than one cycle ahead (cycle 2 has not begun on 2020-05-01); --force records it anyway"
run "decide takes the cycle after the current one" 0 "$noticectl" -c "$conf" --today 2020-12-31 decide burgernet-twente 2 hengelo continue
run "decide before the start takes cycle 1" 0 "$noticectl" -c "$conf" --today 2017-11-01 decide burgernet-twente 1 hengelo continue
run "decide before the start refuses cycle 2" 65 "$noticectl" -c "$conf" --today 2017-11-01 decide burgernet-twente 2 enschede continue
run "decide --force records a late decision" 0 "$noticectl" -c "$conf" --today 2021-08-01 decide burgernet-twente 2 enschede terminate --force --note "B&W 12 mei"
contains "decide's confirmation shows the cycle's period and deadlines" "$out" "cycle 2: 2021-01-01 – 2021-12-31, decision by 2021-05-19, notice by 2021-06-30"
contains "decide's record for the journal is on stderr with NOTICED_LOG_TARGET=console" "$err" "$(id -un) recorded that enschede decides to terminate burgernet-twente (cycle 2): B&W 12 mei"
run "decide refuses 'revoke' as a decision" 64 "$noticectl" -c "$conf" decide burgernet-twente 2 enschede revoke
contains "decide points at revoke" "$err" "noticectl revoke takes a decision back"
run "revoke refuses a participant without a standing decision" 65 "$noticectl" -c "$conf" revoke burgernet-twente 2 oldenzaal
run "revoke refuses a note with a line break" 65 "$noticectl" -c "$conf" revoke burgernet-twente 2 enschede --note $'a\nb'
run "revoke refuses extra words" 64 "$noticectl" -c "$conf" revoke burgernet-twente 2 enschede terminate
run "revoke takes a standing decision back" 0 "$noticectl" -c "$conf" revoke burgernet-twente 2 enschede --note "wrong municipality"
contains "revoke says what it revoked and by whom" "$out" "Revoked: enschede's decision to terminate burgernet-twente (cycle 2), by $(id -un)."
contains "revoke shows the cycle" "$out" "cycle 2: 2021-01-01 – 2021-12-31"
contains "revoke's record for the journal is on stderr" "$err" "$(id -un) revoked enschede's decision to terminate burgernet-twente (cycle 2): wrong municipality"
run "revoke twice refuses: nothing stands any more" 65 "$noticectl" -c "$conf" revoke burgernet-twente 2 enschede
run "history --json shows the revocation in the trail" 0 "$noticectl" -c "$conf" history --json
if /usr/bin/python3 - "$out" "$(id -un)" <<'PY' 2>"$tmp/err"; then ok "the trail keeps the decision and appends the revocation, oldest first"; else not_ok "the trail keeps the decision and appends the revocation, oldest first" "$(cat "$tmp/err")"; fi
import json, sys
rows = [r for r in json.loads(sys.argv[1]) if r["participant"] == "enschede"]
assert [r["decision"] for r in rows] == ["terminate", "revoke"], rows
assert rows[1] == {**rows[1], "type": "decision", "commitment": "burgernet-twente", "cycle": 2,
                   "note": "wrong municipality", "user": sys.argv[2]}, rows[1]
PY
unset STATE_DIRECTORY

# --- mends: decision_lead = "0d" is the default written out (issue 10) ---
sed '/decision_lead = /d' "$conf" >"$tmp/lead-unset.conf"
sed 's/decision_lead = "6w";/decision_lead = "0d";/' "$conf" >"$tmp/lead-0d.conf"
sed 's/decision_lead = "6w";/decision_lead = "0w";/' "$conf" >"$tmp/lead-0w.conf"
run "check accepts decision_lead = \"0d\"" 0 "$noticectl" -c "$tmp/lead-0d.conf" check
for what in "list" "simulate"; do
        "$noticectl" -c "$tmp/lead-unset.conf" $what --from 2017-11-01 --to 2021-12-31 --json \
                >"$tmp/lead-unset.json" 2>&1
        "$noticectl" -c "$tmp/lead-0d.conf" $what --from 2017-11-01 --to 2021-12-31 --json \
                >"$tmp/lead-0d.json" 2>&1
        same_file "$what --json with decision_lead = \"0d\" is that without decision_lead" \
                "$tmp/lead-unset.json" "$tmp/lead-0d.json"
done
grep -q '"kind":"decision"' "$tmp/lead-0d.json" && ok "decision_lead = \"0d\" keeps the decision reminders" ||
        not_ok "decision_lead = \"0d\" keeps the decision reminders" "$(head -c 400 "$tmp/lead-0d.json")"
run "check refuses decision_lead = \"0w\"" 78 "$noticectl" -c "$tmp/lead-0w.conf" check
contains "decision_lead = \"0w\" is refused at its line, saying to write \"0d\"" "$err" \
        "$tmp/lead-0w.conf:135: 'decision_lead' = \"0w\" is zero: write \"0d\""

# --- output: cycle periods, history's filters and width, labels in the config's language ---
# (issue 10: list/simulate show each cycle's period; history --recipient/--state/--since fits 100
# columns; the tables' labels and states follow the config's language)
run "list of the Twente case over its first three cycles" 0 "$noticectl" -c "$conf" --today 2020-05-01 list --from 2020-01-01 --to 2022-12-31
contains "list shows cycle 1's period, the initial 2y term" "$out" "decision       1  2019-01-01 – 2020-12-31  burgernet-twente"
contains "list shows cycle 2's period, the 1y renewal term" "$out" "notice         2  2021-01-01 – 2021-12-31  burgernet-twente"
contains "list shows cycle 3's period at its term_end" "$out" "term_end       3  2022-01-01 – 2022-12-31  burgernet-twente"
if awk '$4 == "review" && $6 ~ /^[0-9]/ { bad = 1 } END { exit bad }' <<<"$out"; then ok "a review (cycle 0) shows no period"
else not_ok "a review (cycle 0) shows no period" "$out"; fi
contains "list's header names the period column in Dutch" "$out" "DATUM            DAGEN  SOORT     CYCLUS  PERIODE                  AFSPRAAK               TITEL"
run "simulate of the Twente case around cycle 2's decision" 0 "$noticectl" -c "$conf" --today 2021-04-01 simulate --from 2021-04-19 --to 2021-04-19
contains "simulate shows the period of the cycle a reminder is about" "$out" "decision       2  2021-01-01 – 2021-12-31  burgernet-twente       2021-05-19    30d  almelo"
contains "simulate's header is Dutch for a Dutch config" "$out" "TIJDSTIP               DAGEN  SOORT     CYCLUS  PERIODE                  AFSPRAAK               MIJLPAAL   VOORAF  ONTVANGER            BETAALT PER JAAR            KANALEN"
sed 's/^language = "nl";/language = "en";/' "$conf" >"$tmp/en.conf"
grep -q '^language = "en";' "$tmp/en.conf" && ok "an English copy of the Twente config" || not_ok "an English copy of the Twente config"
run "list with an English config" 0 "$noticectl" -c "$tmp/en.conf" --today 2020-05-01 list
contains "list's header is English for an English config" "$out" "DATE              DAYS  KIND       CYCLE  PERIOD                   COMMITMENT             TITLE"
run "simulate with an English config" 0 "$noticectl" -c "$tmp/en.conf" --today 2020-04-01 simulate --from 2020-04-17 --to 2020-04-17
contains "simulate's header is English for an English config" "$out" "AT                      DAYS  KIND       CYCLE  PERIOD                   COMMITMENT             MILESTONE  OFFSET  RECIPIENT            PAYS A YEAR                 CHANNELS"
if [ "$("$noticectl" -c "$tmp/en.conf" simulate --from 2020-04-17 --to 2020-05-20 --json | md5sum)" = \
     "$("$noticectl" -c "$conf" simulate --from 2020-04-17 --to 2020-05-20 --json | md5sum)" ]; then
        ok "simulate --json is the same whatever the language"
else not_ok "simulate --json is the same whatever the language"; fi
cat >"$tmp/indefinite.conf" <<'CONF'
transports = { local = { url = "maildir:/nonexistent/outbox"; from = "n@x.example"; }; };
mail_via = "local";
recipients = ( { id = "a"; name = "A"; mail = ["a@x.example"]; } );
commitments = ( { id = "c"; title = "C"; start = "2019-01-01"; term = "2y"; renewal = "indefinite";
                  notice = "6m"; participants = ["a"]; terminated = "2020-10-01"; } );
CONF
run "list of an indefinite commitment ended late" 0 "$noticectl" -c "$tmp/indefinite.conf" --today 2019-01-01 list --to 2021-12-31
contains "its cycle 1 covers the initial term" "$out" "term_end       1  2019-01-01 – 2020-12-31  c"
contains "the later end notice buys is cycle 2, from the day after cycle 1" "$out" "term_end       2  2021-01-01 – 2021-03-31  c"

export STATE_DIRECTORY=$tmp/state-output
mkdir -p "$STATE_DIRECTORY"
long_note="B&W 12 mei 2020, besluit 2020/123456 van het college van burgemeester en wethouders, na advies van de klankbordgroep Burgernet Twente en de commissie Bestuur van de gemeenteraad, vastgelegd in de besluitenlijst van de vergadering van dinsdag 12 mei 2020, te vinden in het raadsinformatiesysteem van de gemeente Enschede"
"$noticectl" -c "$conf" --today 2020-05-01 decide burgernet-twente 1 enschede terminate --note "$long_note" >/dev/null &&
        "$noticectl" -c "$conf" --today 2020-05-01 decide burgernet-twente 1 almelo continue >/dev/null &&
        ok "two decisions for history's filters" || not_ok "two decisions for history's filters"
run "history with a long note" 0 "$noticectl" -c "$conf" history
widest=$(/usr/bin/python3 -c 'import sys; print(max(len(l) for l in sys.stdin.read().split("\n")))' <<<"$out")
if [ "$widest" -le 100 ]; then ok "every line of history's table fits 100 columns (widest $widest)"
else not_ok "every line of history's table fits 100 columns (widest $widest)" "$out"; fi
contains "history shortens a note past three lines with …" "$out" "…"
contains "history's labels are Dutch for a Dutch config" "$out" "WANNEER           STATUS"
contains "history's states are Dutch for a Dutch config" "$out" "besloten"
run "history --json keeps the whole note" 0 "$noticectl" -c "$conf" history --json
contains "history --json has the note whole" "$out" "$long_note"
run "history --recipient" 0 "$noticectl" -c "$conf" history --recipient almelo
contains "history --recipient shows that participant's decision" "$out" "almelo"
if ! grep -q enschede <<<"$out"; then ok "history --recipient leaves others out"; else not_ok "history --recipient leaves others out" "$out"; fi
contains "history --recipient counts what it shows" "$out" "0 reminder rows, 1 decision"
run "history --state decided" 0 "$noticectl" -c "$conf" history --state decided --json
contains "history --state decided shows the decisions" "$out" '"participant":"almelo"'
run "history --state sent" 0 "$noticectl" -c "$conf" history --state sent --json
[ "$out" = "[]" ] && ok "history --state sent leaves decisions out" || not_ok "history --state sent leaves decisions out" "$out"
run "history --state with a bad state is a usage error" 64 "$noticectl" -c "$conf" history --state verzonden
contains "a bad --state names the valid states" "$err" "--state 'verzonden' is not one of sent, failed, skipped, queued, pending, decided"
run "history --since today" 0 "$noticectl" -c "$conf" history --since "$(TZ=Europe/Amsterdam date +%F)" --json
contains "history --since today keeps today's decisions" "$out" '"participant":"enschede"'
run "history --since tomorrow" 0 "$noticectl" -c "$conf" history --since "$(TZ=Europe/Amsterdam date -d tomorrow +%F)" --recipient almelo
contains "history --since after every row shows none" "$out" "0 reminder rows, 0 decisions"
run "history --since with a bad date is a usage error" 64 "$noticectl" -c "$conf" history --since 2020-02-30
run "history --recipient --state --since --commitment combine" 0 "$noticectl" -c "$conf" history --recipient enschede --state decided --since 2000-01-01 --commitment burgernet-twente --json
if /usr/bin/python3 -c 'import json,sys; r = json.loads(sys.argv[1]); assert [x["participant"] for x in r] == ["enschede"], r' "$out" 2>"$tmp/err"; then
        ok "the filters combine"; else not_ok "the filters combine" "$(cat "$tmp/err")"; fi
run "history with an English config" 0 "$noticectl" -c "$tmp/en.conf" history
contains "history's labels are English for an English config" "$out" "WHEN              STATE"
contains "history's states and words are English for an English config" "$out" "continue by $(id -un)"
unset STATE_DIRECTORY

# --- revoke takes back every decision that stands, and says so ---
export STATE_DIRECTORY=$tmp/state-revoke-both
mkdir -p "$STATE_DIRECTORY"
"$noticectl" -c "$conf" --today 2020-05-01 decide burgernet-twente 1 losser continue >/dev/null 2>&1 &&
        "$noticectl" -c "$conf" --today 2020-05-01 decide burgernet-twente 1 losser terminate >/dev/null 2>&1 &&
        ok "two decisions of one participant for one cycle" || not_ok "two decisions of one participant for one cycle"
run "revoke with two decisions standing" 0 "$noticectl" -c "$conf" revoke burgernet-twente 1 losser
contains "revoke names both decisions it takes back" "$out" "Revoked: losser's decisions to continue and to terminate burgernet-twente (cycle 1), by $(id -un)."
run "nothing stands after the revocation" 65 "$noticectl" -c "$conf" revoke burgernet-twente 1 losser
unset STATE_DIRECTORY

# --- upcoming: what will really go out (the daemon test runs it against a real ledger) ---
export STATE_DIRECTORY=$tmp/state-upcoming
mkdir -p "$STATE_DIRECTORY"
run "upcoming before any ledger" 0 "$noticectl" -c "$conf" --today 2020-05-11 upcoming --days 10
contains "upcoming says nothing is recorded yet" "$err" "no ledger at $STATE_DIRECTORY/ledger.sqlite yet"
if [ ! -e "$STATE_DIRECTORY/ledger.sqlite" ]; then ok "upcoming leaves no ledger behind"
else not_ok "upcoming leaves no ledger behind"; fi
contains "upcoming's header is Dutch for a Dutch config" "$out" "TIJDSTIP               DAGEN  STATUS"
contains "the 7d decision reminder of 12 May is planned, in Dutch" "$out" "di  2020-05-12 09:00      +1  gepland     burgernet-twente       decision          1  2020-05-19     7d  almelo"
contains "upcoming counts its rows" "$out" "reminders to go out in the next 10 days"
run "upcoming --json before any ledger" 0 "$noticectl" -c "$conf" --today 2020-05-11 upcoming --days 10 --recipient enschede --json
if /usr/bin/python3 - "$out" <<'PY' 2>"$tmp/err"; then ok "upcoming --json has simulate's keys, then state and catch_up"; else not_ok "upcoming --json has simulate's keys, then state and catch_up" "$(cat "$tmp/err")"; fi
import json, sys
rows = json.loads(sys.argv[1])
assert rows and all(r["recipient"] == "enschede" for r in rows), rows
first = rows[0]
assert list(first)[:10] == ["at", "commitment", "kind", "cycle", "milestone", "offset", "recipient",
                            "channels", "state", "catch_up"], list(first)
# Midnight of 11 May: the decision's 14d reminder (4 May: 5 May 2020 was a holiday) and the notice's 60d of 1 May were
# missed and wait for 09:00 that day; the decision's 7d of 12 May comes as planned.
got = {(r["kind"], r["offset"]): (r["at"], r["state"], r["catch_up"], r.get("planned"))
       for r in rows}
assert got[("decision", "14d")] == ("2020-05-11T09:00:00+02:00", "due", True,
                                    "2020-05-04T09:00:00+02:00"), got
assert got[("notice", "60d")] == ("2020-05-11T09:00:00+02:00", "due", True,
                                  "2020-05-01T09:00:00+02:00"), got
assert got[("decision", "7d")] == ("2020-05-12T09:00:00+02:00", "due", False, None), got
assert first["channels"] == ["mail", "webhook:enschede-teams"], first
PY
run "upcoming refuses an unknown recipient" 65 "$noticectl" -c "$conf" upcoming --recipient nobody
contains "upcoming names the unknown recipient" "$err" "no recipient 'nobody' in $conf"
run "upcoming refuses an unknown commitment" 65 "$noticectl" -c "$conf" upcoming --commitment nope
run "upcoming refuses --days 0" 64 "$noticectl" -c "$conf" upcoming --days 0
contains "upcoming says what --days takes" "$err" "--days '0' must be a number of days from 1 to 3660"
run "upcoming refuses --days past ten years" 64 "$noticectl" -c "$conf" upcoming --days 3661
run "upcoming refuses an argument" 64 "$noticectl" -c "$conf" upcoming enschede
run "upcoming with an English config" 0 "$noticectl" -c "$tmp/en.conf" --today 2020-05-11 upcoming --days 3
contains "upcoming's header is English for an English config" "$out" "AT                      DAYS  STATE"
contains "a caught-up reminder is 'catch-up' in English" "$out" "catch-up"
unset STATE_DIRECTORY

# --- registers: the Twente commitment from the example CSV (etc/noticed/contracten.csv) ---
mkdir -p "$tmp/register"
cp "$top/etc/noticed/contracten.csv" "$tmp/register/"
{ sed '/^commitments = (/,$d' "$conf"
  cat <<'CONF'
registers = ( { file = "contracten.csv"; delimiter = ";";
                defaults = { cost = { per_inhabitant = [0.08, 0.10]; currency = "EUR"; from = "2019-01-01"; };
                             deadlines = ( { id = "standpunt"; date = "2017-11-30";
                                             title = "Standpunt over deelname doorgeven aan de portefeuillehouder Burgernet"; } ); }; } );
CONF
} >"$tmp/register/noticed.conf"
run "check accepts a config whose commitment is a register's row" 0 "$noticectl" -c "$tmp/register/noticed.conf" check
contains "check counts the register's commitments" "$out" "1 commitment, 16 recipients"
"$noticectl" -c "$tmp/register/noticed.conf" list --from 2017-11-01 --to 2021-12-31 --json >"$tmp/register/list.json"
same_file "list --json of the register's Twente row matches the golden file" \
        "$top/tests/golden/list-twente.json" "$tmp/register/list.json"
"$noticectl" -c "$tmp/register/noticed.conf" simulate --from 2017-11-01 --to 2021-12-31 --json >"$tmp/register/sim.json"
same_file "simulate --json of the register's Twente row matches the golden file" \
        "$top/tests/golden/simulate-twente.json" "$tmp/register/sim.json"
printf 'id;title;start;term;renewal;notice;participants\r\nb1;"Zorg; thuis";2019-01-01;2y;tacit;3x;almelo\r\n"b2;2019-01-01\r\nburgernet-twente;X;2019-01-01;2y;none;;almelo\r\n' \
        >"$tmp/register/bad.csv"
mkfifo "$tmp/register/fifo.csv"
{ cat "$conf"
  printf 'registers = ( { file = "bad.csv"; delimiter = ";"; },\n  { file = "fifo.csv"; } );\n'
} >"$tmp/register/bad.conf"
run "check refuses a broken register with 78" 78 "$noticectl" -c "$tmp/register/bad.conf" check
contains "a bad register value is named with the register's line" "$err" \
        "$tmp/register/bad.csv:2: 'notice' = \"3x\" is not a duration"
contains "an unterminated quote names the line it opens on" "$err" \
        "$tmp/register/bad.csv:3: a quoted field is not closed"
contains "a FIFO as register is refused at its file = line" "$err" \
        "$tmp/register/bad.conf:$(grep -c '' "$conf" | awk '{print $1 + 2}'): register \"$tmp/register/fifo.csv\" is not a regular file"
run "list refuses a broken register with 78 too" 78 "$noticectl" -c "$tmp/register/bad.conf" list
printf 'id;title;start;term;renewal;notice;participants\r\nburgernet-twente;X;2019-01-01;2y;none;;almelo\r\n' >"$tmp/register/dup.csv"
{ cat "$conf"; printf 'registers = ( { file = "dup.csv"; delimiter = ";"; } );\n'; } >"$tmp/register/dup.conf"
run "a commitment id in the config and a register is refused" 78 "$noticectl" -c "$tmp/register/dup.conf" check
contains "the duplicate names both places" "$err" \
        "$tmp/register/dup.csv:2: duplicate commitment id 'burgernet-twente' (first at $tmp/register/dup.conf:"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
