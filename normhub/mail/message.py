"""Building an email: a template pair rendered into multipart/alternative bytes.

An email's templates live under ``templates/email/<name>/``:

* ``body.txt``: the plain-text part (not autoescaped);
* ``body.html``: the HTML part (autoescaped);
* ``subject.txt``: one line, whitespace collapsed. Optional: an email whose
  subject is computed (the digest counts its norms) passes ``subject`` in its
  context instead. Either way both bodies see it as ``{{ subject }}``.

An :class:`Email` names the template, the recipient and the context; a
:class:`Composer` (one per app, templates loaded once) turns it into an
:class:`Outgoing`, the bytes every transport takes.
"""

from __future__ import annotations

import binascii
import email.policy
import functools
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.contentmanager import raw_data_manager
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from flask import Flask
from jinja2 import Environment, TemplateNotFound

# The address of the default MAIL_FROM, for a setting that names no address.
FALLBACK_ENVELOPE_SENDER = str(Address(addr_spec="digest@normhub.invalid"))
FALLBACK_DOMAIN = "normhub.invalid"


@dataclass
class Outgoing:
    message_id: str
    data: bytes


@dataclass(frozen=True)
class Sender:
    """Who mail comes from: the From header, the envelope sender, the Message-ID domain."""

    mail_from: str
    envelope: str
    domain: str

    @classmethod
    def from_config(cls, config) -> Sender:
        mail_from = config["MAIL_FROM"]
        address = parseaddr(mail_from)[1]
        return cls(
            mail_from,
            address or FALLBACK_ENVELOPE_SENDER,
            address.rpartition("@")[2] or FALLBACK_DOMAIN,
        )


@dataclass
class Email:
    """One email to one recipient, before rendering.

    ``key`` makes the Message-ID stable (``<key@domain>``): an email sent
    again with the same key carries the same Message-ID, so mail clients that
    deduplicate show it once. Without one the Message-ID is random.
    ``headers`` are extra (ASCII) header lines, in order.
    """

    template: str
    to: str
    context: dict
    display_name: str = ""
    key: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def message_id(key: str | None, domain: str) -> str:
    return f"<{key or uuid.uuid4().hex}@{domain}>"


class EmailTemplate:
    """The templates of one email under ``email/<name>/``, loaded once."""

    def __init__(self, environment: Environment, name: str):
        self.name = name
        self.text = environment.get_template(f"email/{name}/body.txt")
        self.html = environment.get_template(f"email/{name}/body.html")
        try:
            self.subject = environment.get_template(f"email/{name}/subject.txt")
        except TemplateNotFound:
            self.subject = None

    def render(self, context: dict) -> tuple[str, str, str]:
        """(subject, text, HTML) for ``context``."""
        if self.subject is not None:
            subject = " ".join(self.subject.render(context).split())
            context = {**context, "subject": subject}
        elif "subject" in context:
            subject = context["subject"]
        else:
            raise KeyError(
                f"email/{self.name}/ has no subject.txt and the context gives no 'subject'."
            )
        return subject, self.text.render(context), self.html.render(context)


class Composer:
    """Renders and builds emails for one app: its Jinja environment and MAIL_FROM."""

    def __init__(self, app: Flask):
        self.environment = app.jinja_env
        self.sender = Sender.from_config(app.config)
        self._templates: dict[str, EmailTemplate] = {}

    def template(self, name: str) -> EmailTemplate:
        found = self._templates.get(name)
        if found is None:
            found = self._templates[name] = EmailTemplate(self.environment, name)
        return found

    def compose(self, email: Email) -> Outgoing:
        subject, text, html = self.template(email.template).render(email.context)
        return build_message(
            self.sender,
            subject,
            formataddr((email.display_name, email.to), charset="utf-8"),
            message_id(email.key, self.sender.domain),
            text,
            html,
            email.headers,
        )


def compose(app: Flask, template: str, to: str, context: dict, **options) -> Outgoing:
    """One email's bytes: ``options`` are :class:`Email`'s (display_name, key, headers)."""
    return Composer(app).compose(Email(template, to, context, **options))


# The modern email policy parses and refolds every header through the header
# registry, about five times slower than compat32, which is enough to cap the
# send rate. Messages are built with compat32 and flattened once with long
# header lines allowed, so a long header (List-Unsubscribe) is never folded.
class _FlattenPolicy(email.policy.Compat32):
    """compat32, writing plain one-line ASCII headers as they are.

    Every header value here is already ASCII (the subject and display name are
    RFC 2047-encoded when built), so running each through ``Header.encode``
    only costs time; anything else still goes the standard way.
    """

    def _fold(self, name, value, sanitize):
        if isinstance(value, str) and value.isascii() and "\n" not in value and len(value) < 900:
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


BUILD_POLICY = email.policy.compat32
FLATTEN_POLICY = _FlattenPolicy(linesep="\r\n", max_line_length=998)
_HEADER_NAME = re.compile(r"[!-9;-~]+")


def build_message(
    sender: Sender,
    subject: str,
    to: str,
    identifier: str,
    text: str,
    html: str | None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Outgoing:
    """The multipart/alternative message (text, and HTML unless None; quoted-printable) as bytes.

    Written directly: every header here is ASCII once the subject and display
    name are RFC 2047-encoded, so the email package's objects, content
    managers and generator (a third of the sender's CPU per message) add
    nothing. A non-ASCII From setting or extra header takes the email
    package's path; a header value with a line break is refused.
    """
    if not _plain_headers(headers) or not sender.mail_from.isascii():
        return _build_with_email_package(sender, subject, to, identifier, text, html, headers)
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers)
    head = (
        f"Subject: {_encoded_subject(subject)}\r\n"
        f"From: {sender.mail_from}\r\n"
        f"To: {to}\r\n"
        f"Date: {format_datetime(datetime.now(UTC), usegmt=True)}\r\n"
        f"Message-ID: {identifier}\r\n"
        f"{extra}"
        "Auto-Submitted: auto-generated\r\n"
        "MIME-Version: 1.0\r\n"
    )
    data = head.encode("ascii") + _body(text, html)
    return Outgoing(identifier, data)


def _plain_headers(headers: tuple[tuple[str, str], ...]) -> bool:
    """True if every extra header can be written as one line as it is.

    A line break in a value would start a header of the caller's data
    (``Bcc:``, say): refused, as is a name that is not a header name.
    """
    plain = True
    for name, value in headers:
        if "\r" in value or "\n" in value or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"The {name!r} header must have a valid name and be one line.")
        plain = plain and value.isascii() and len(value) < 900
    return plain


def _body(text: str, html: str | None) -> bytes:
    """The Content-Type header on: one text part, or text and HTML as alternatives."""
    if html is None:
        return _part("plain", text)
    # "=_" never occurs in quoted-printable text, so this boundary cannot
    # collide with the body.
    boundary = f"=_normhub_{secrets.token_hex(12)}"
    return b"".join(
        (
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
            f"--{boundary}\r\n".encode(),
            _part("plain", text),
            f"\r\n--{boundary}\r\n".encode(),
            _part("html", html),
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )


def _part(subtype: str, body: str) -> bytes:
    encoded = binascii.b2a_qp(body.replace("\r\n", "\n").encode("utf-8"), istext=True)
    if not encoded.endswith(b"\n"):
        encoded += b"\n"
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
    ).encode("ascii") + encoded.replace(b"\n", b"\r\n")


def _build_with_email_package(
    sender: Sender,
    subject: str,
    to: str,
    identifier: str,
    text: str,
    html: str | None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Outgoing:
    message = EmailMessage(policy=BUILD_POLICY)
    message["Subject"] = _encoded_subject(subject)
    message["From"] = sender.mail_from
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC), usegmt=True)
    message["Message-ID"] = identifier
    for name, value in headers:
        message[name] = value
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, content_manager=raw_data_manager, cte="quoted-printable")
    if html is not None:
        message.add_alternative(
            html, subtype="html", content_manager=raw_data_manager, cte="quoted-printable"
        )
    # "=_" never occurs in quoted-printable text, so this boundary cannot
    # collide with the body and the generator need not search for one.
    message.set_boundary(f"=_normhub_{secrets.token_hex(12)}")
    return Outgoing(identifier, message.as_bytes(policy=FLATTEN_POLICY))


@functools.lru_cache(maxsize=256)
def _encoded_subject(subject: str) -> str:
    # Subjects of one kind differ only in a count or a name: encode each once.
    return subject if subject.isascii() else Header(subject, "utf-8").encode()
