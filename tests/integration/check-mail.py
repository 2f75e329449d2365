#!/usr/bin/python3
"""Check reminder mails the way a strict receiver reads them.

    /usr/bin/python3 tests/integration/check-mail.py [--show] [--plain] FILE...

Each FILE is one message as noticed writes it (a maildir file, an SMTP sink's capture).  It must
have CRLF line ends and no line over 998 octets; parse with email.policy.strict without defects,
in the message, in any part or in any header noticed writes; be multipart/mixed with a text/plain
part (charset utf-8, quoted-printable) and a text/calendar part that icalendar parses, with
METHOD PUBLISH and one VEVENT that has DTSTART, UID, SUMMARY and a VALARM.

With --plain each FILE is a plain message instead (an escalation, a test message): the same
checks of lines and headers, but one text/plain part (charset utf-8, quoted-printable, with a
Content-Language) and no calendar.

Prints "FILE: reason" for every problem and exits 1 if there was any, 0 otherwise.  With --show
it also prints each message's decoded subject and text, as a reader would see them.
"""

import email
import email.policy
import re
import sys

import icalendar

HEADERS = ("from", "to", "subject", "date", "message-id", "mime-version", "content-type",
           "auto-submitted", "x-noticed-reminder")


def raw_problems(data):
    """Line ends and lengths, which the parser forgives."""
    problems = []
    if b"\n" in data.replace(b"\r\n", b""):
        problems.append("a bare LF (lines must end in CRLF)")
    if b"\r" in data.replace(b"\r\n", b""):
        problems.append("a bare CR")
    lines = data.split(b"\r\n")
    for number, line in enumerate(lines, 1):
        if len(line) > 998:
            problems.append(f"line {number} is {len(line)} octets long (at most 998)")
    header_end = lines.index(b"") if b"" in lines else len(lines)
    if any(b >= 0x80 for line in lines[:header_end] for b in line):
        problems.append("8-bit bytes in the header (RFC 2047 words are 7-bit)")
    for number, line in enumerate(lines[:header_end], 1):
        # A field's first line can fold only at a space after "Name: "; a value without one
        # (an identity, a Message-ID) may be longer.
        value = line.strip() if line[:1] in (b" ", b"\t") else line.partition(b":")[2].strip()
        if len(line) > 78 and b" " in value:
            problems.append(f"header line {number} is {len(line)} long but could be folded")
    return problems


def header_problems(msg):
    problems = []
    for name in HEADERS:
        values = msg.get_all(name) or []
        if len(values) != 1:
            problems.append(f"{len(values)} {name} headers (want 1)")
            continue
        header = msg[name]  # parsed by the strict policy's header factory
        if header.defects:
            problems.append(f"{name} header: {', '.join(str(d) for d in header.defects)}")
    if msg["date"] is not None and msg["date"].datetime is None:
        problems.append("Date header is not a date")
    if msg["message-id"] is not None and not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>",
                                                          str(msg["message-id"])):
        problems.append(f"Message-ID {msg['message-id']!r} is not <id@domain>")
    if msg["auto-submitted"] is not None and str(msg["auto-submitted"]) != "auto-generated":
        problems.append("Auto-Submitted is not auto-generated")
    if msg["to"] is not None and not msg["to"].addresses:
        problems.append("To header has no address")
    return problems


def quoted_printable_problems(part):
    """RFC 2045 6.7, which Python's decoder forgives: "=" only before two upper-case hex digits or
    a line end, lines of at most 76 characters, no whitespace at the end of a line."""
    problems = []
    for number, line in enumerate(part.get_payload(decode=False).splitlines(), 1):
        if len(line) > 76:
            problems.append(f"{part.get_content_type()} line {number} is {len(line)} long (QP: 76)")
        if line.endswith((" ", "\t")):
            problems.append(f"{part.get_content_type()} line {number} ends in whitespace")
        if re.search(r"=(?![0-9A-F]{2}|$)", line):
            problems.append(f"{part.get_content_type()} line {number} has a stray '='")
    return problems


def calendar_problems(part):
    try:
        cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    except ValueError as e:
        return [f"text/calendar does not parse: {e}"]
    problems = []
    if str(cal.get("method", "")) != "PUBLISH":
        problems.append("calendar METHOD is not PUBLISH")
    if str(cal.get("version", "")) != "2.0":
        problems.append("calendar VERSION is not 2.0")
    events = cal.walk("VEVENT")
    if len(events) != 1:
        problems.append(f"calendar has {len(events)} VEVENTs (want 1)")
    for event in events:
        for prop in ("DTSTART", "UID", "SUMMARY", "DTSTAMP"):
            if prop not in event:
                problems.append(f"VEVENT without {prop}")
        if not event.walk("VALARM"):
            problems.append("VEVENT without a VALARM")
    return problems


def text_problems(text):
    problems = []
    if text.get_content_charset() != "utf-8":
        problems.append(f"text/plain charset is {text.get_content_charset()}, not utf-8")
    if text.get("content-transfer-encoding", "").lower() != "quoted-printable":
        problems.append("text/plain is not quoted-printable")
    return problems


def plain_problems(msg):
    """A message that is one text/plain part, as mail_render_plain() writes it."""
    if msg.get_content_type() != "text/plain" or msg.is_multipart():
        return [f"content type {msg.get_content_type()}, not a single text/plain part"]
    problems = quoted_printable_problems(msg) + text_problems(msg)
    for name in ("content-transfer-encoding", "content-language"):
        if msg[name] is not None and msg[name].defects:
            problems.append(f"{name} header: {msg[name].defects}")
    if str(msg.get("content-language", "")) not in ("nl", "en"):
        problems.append(f"Content-Language {msg.get('content-language')!r} is not nl or en")
    msg.get_content()  # decodes: raises on bad UTF-8
    return problems


def check(path, show, plain):
    with open(path, "rb") as f:
        data = f.read()
    problems = raw_problems(data)
    try:
        msg = email.message_from_bytes(data, policy=email.policy.strict)
        problems += header_problems(msg)
        if msg.defects:
            problems.append(f"message defects: {msg.defects}")
        if plain:
            problems += plain_problems(msg)
            if show and not problems:
                print(f"==> {path}\nSubject: {msg['subject']}\n\n{msg.get_content()}")
            return problems
        if msg.get_content_type() != "multipart/mixed":
            return problems + [f"content type {msg.get_content_type()}, not multipart/mixed"]
        text = calendar = None
        for part in msg.walk():
            if part.defects:
                problems.append(f"{part.get_content_type()} part defects: {part.defects}")
            if part.get("content-transfer-encoding", "").lower() == "quoted-printable":
                problems += quoted_printable_problems(part)
            for name in ("content-type", "content-transfer-encoding"):
                if part[name] is not None and part[name].defects:
                    problems.append(f"{name} header of a part: {part[name].defects}")
            if part.get_content_type() == "text/plain":
                text = part
            elif part.get_content_type() == "text/calendar":
                calendar = part
        if text is None:
            problems.append("no text/plain part")
        else:
            problems += text_problems(text)
            body = text.get_content()
        if calendar is None:
            problems.append("no text/calendar part")
        else:
            problems += calendar_problems(calendar)
        if show and not problems:
            print(f"==> {path}\nSubject: {msg['subject']}\n\n{body}")
    except (email.errors.MessageError, UnicodeError, LookupError) as e:
        problems.append(f"does not parse strictly: {e}")
    return problems


def main(argv):
    show = "--show" in argv
    plain = "--plain" in argv
    files = [a for a in argv if a not in ("--show", "--plain")]
    if not files or any(a.startswith("-") for a in files):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    failed = False
    for path in files:
        try:
            problems = check(path, show, plain)
        except OSError as e:
            problems = [e.strerror]
        for p in problems:
            print(f"{path}: {p}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
