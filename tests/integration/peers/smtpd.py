#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 for tests: aiosmtpd with STARTTLS, implicit TLS or plain,
AUTH PLAIN/LOGIN, a maildir of accepted messages with a JSON-lines log, and scripted faults.

    /usr/bin/python3 tests/integration/peers/smtpd.py --port 0 --mode starttls \\
        --cert DIR/cert.pem --key DIR/key.pem --auth user:secret --maildir DIR/mail \\
        --ready-file DIR/smtpd.port [--fail-first 1:'451 4.3.0 try again later'] \\
        [--reject-rcpt nobody@example.org:'550 5.1.1 no such user'] [--reject-all CODE] \\
        [--optional]

Once listening it writes the port to --ready-file (PATH.tmp, then renamed) and prints
"READY <port>" on stdout.  SIGTERM or SIGINT: stops listening and exits 0.  See README.md.
Standard library and python3-aiosmtpd (Debian) only; run it with /usr/bin/python3.
"""

import argparse
import asyncio
import email.parser
import email.policy
import json
import logging
import os
import re
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult

CODE = re.compile(r"^[45][0-9][0-9]( .*)?$")


def reply_code(text):
    """An SMTP reply for a fault: a 4xx or 5xx code, optionally followed by text."""
    if not CODE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r}: want a 4xx or 5xx reply, like "
                                         "'451 4.3.0 try again later'")
    return text


def fail_first(text):
    count, sep, code = text.partition(":")
    if not sep or not count.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: want N:CODE")
    return int(count), reply_code(code)


def reject_rcpt(text):
    address, sep, code = text.partition(":")
    if not sep or not address:
        raise argparse.ArgumentTypeError(f"{text!r}: want ADDRESS:CODE")
    return address.lower(), reply_code(code)


def credentials(text):
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise argparse.ArgumentTypeError(f"{text!r}: want USER:PASSWORD")
    return user, password


class Peer(SMTP):
    # Clients such as curl expect these LOGIN challenges, not aiosmtpd's "User Name\0".
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"


class Handler:
    """The aiosmtpd hooks: faults, storage, the log.  Runs in the event loop's one thread."""

    def __init__(self, args):
        self.args = args
        self.rejects = dict(args.reject_rcpt or [])
        self.fail_left, self.fail_code = args.fail_first or (0, None)
        self.seq = 0
        self.log = None
        if args.maildir:
            os.makedirs(args.maildir, exist_ok=True)
            # Continue after the messages of an earlier run in the same directory.
            for name in os.listdir(args.maildir):
                stem, dot, ext = name.partition(".")
                if ext == "eml" and stem.isdigit():
                    self.seq = max(self.seq, int(stem))
            self.log = open(os.path.join(args.maildir, "log.jsonl"), "a", encoding="utf-8")
        self.parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.rejects.get(address.lower())
        if code:
            return code
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # aiosmtpd has no hook between DATA and 354: faults answer the end of the data.
        if self.args.reject_all:
            return self.args.reject_all
        if self.fail_left > 0:
            self.fail_left -= 1
            return self.fail_code
        content = envelope.original_content or b""
        self.seq += 1
        name = f"{self.seq}.eml"
        if self.args.maildir:
            path = os.path.join(self.args.maildir, name)
            with open(path + ".tmp", "wb") as f:
                f.write(content)
            os.rename(path + ".tmp", path)
            message_id = self.parser.parsebytes(content).get("Message-ID")
            if message_id is not None:
                message_id = " ".join(str(message_id).split())
            auth = session.auth_data if session.authenticated else None
            record = {
                "seq": self.seq,
                "file": name,
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "tls": server.transport.get_extra_info("ssl_object") is not None,
                "auth": auth,
                "message_id": message_id,
                "size": len(content),
            }
            # Logged before the 250 goes out: a client that has its 250 finds the line.
            self.log.write(json.dumps(record) + "\n")
            self.log.flush()
        return f"250 2.0.0 Ok: queued as {self.seq}"


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def announce(port, ready_file):
    if ready_file:
        with open(ready_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.rename(ready_file + ".tmp", ready_file)
    try:
        sys.stdout.write(f"READY {port}\n")
        sys.stdout.flush()
    except OSError:  # nobody reads stdout: the ready file is enough
        pass


async def serve(args):
    handler = Handler(args)
    context = tls_context(args.cert, args.key) if args.mode != "plain" else None

    def authenticator(server, session, envelope, mechanism, data):
        user, password = args.auth
        if data.login == user.encode() and data.password == password.encode():
            return AuthResult(success=True, auth_data=user)
        # handled=False, or aiosmtpd sends no reply at all and the client hangs.
        return AuthResult(success=False, handled=False)

    def factory():
        options = dict(hostname="localhost", ident="noticed test peer", enable_SMTPUTF8=True)
        if args.mode == "starttls":
            # AUTH is offered only after STARTTLS (aiosmtpd's auth_require_tls), required or not.
            options.update(tls_context=context, require_starttls=not args.optional)
        elif args.auth:
            # smtps: aiosmtpd does not see the implicit-TLS socket as TLS; plain: loopback only.
            # Without --auth its default stays: no AUTH offered where it sees no TLS.
            options.update(auth_require_tls=False)
        if args.auth:
            options.update(authenticator=authenticator, auth_required=not args.optional)
        return Peer(handler, **options)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host="127.0.0.1", port=args.port,
                                      ssl=context if args.mode == "smtps" else None)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    announce(server.sockets[0].getsockname()[1], args.ready_file)
    await stop
    server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--mode", choices=("starttls", "smtps", "plain"), default="plain")
    parser.add_argument("--cert", help="PEM certificate (starttls, smtps)")
    parser.add_argument("--key", help="PEM private key (starttls, smtps)")
    parser.add_argument("--auth", type=credentials, metavar="USER:PASSWORD",
                        help="require AUTH PLAIN or LOGIN with these credentials")
    parser.add_argument("--maildir", metavar="DIR",
                        help="store accepted messages as DIR/<seq>.eml, log to DIR/log.jsonl")
    parser.add_argument("--ready-file", metavar="PATH", help="the port goes here when ready")
    parser.add_argument("--fail-first", type=fail_first, metavar="N:CODE",
                        help="answer the first N messages (end of DATA) with CODE")
    parser.add_argument("--reject-rcpt", type=reject_rcpt, action="append", metavar="ADDR:CODE",
                        help="answer RCPT TO for ADDR with CODE (repeatable)")
    parser.add_argument("--reject-all", type=reply_code, metavar="CODE",
                        help="answer every message (end of DATA) with CODE")
    parser.add_argument("--optional", action="store_true",
                        help="offer STARTTLS and AUTH as --mode and --auth say, require neither")
    parser.add_argument("--verbose", action="store_true", help="aiosmtpd's log on stderr")
    args = parser.parse_args()
    if args.mode != "plain" and not (args.cert and args.key):
        parser.error(f"--mode {args.mode} needs --cert and --key")

    # aiosmtpd warns about AUTH without TLS (smtps, plain) and about its own deprecated
    # login_data on every AUTH; asyncio logs every client that drops a TLS handshake.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL,
                        format="smtpd: %(name)s: %(message)s")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
