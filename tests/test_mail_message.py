"""Building emails: template pairs, headers, and the hand-built MIME bytes."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from email.utils import formataddr

import pytest
from jinja2 import ChoiceLoader, DictLoader

from normhub.digest.content import Digest, subject_line
from normhub.digest.emails import digest_email, message_key
from normhub.mail import message as mail_message
from normhub.mail.message import Composer, Email, Sender, compose
from tests.smtp import parts

WELCOME = {
    "email/welcome/subject.txt": "Welcome to {{ community }},\n  {{ name }}\n",
    "email/welcome/body.txt": "{{ subject }}\n\nHello {{ name }}, see {{ url }}\n",
    "email/welcome/body.html": "<h1>{{ subject }}</h1><p>Hello {{ name }}</p>",
    "email/nosubject/body.txt": "text",
    "email/nosubject/body.html": "<p>html</p>",
}


@pytest.fixture
def app_overrides():
    return {"MAIL_FROM": "Riverside NormHub <hello@normhub.example>"}


@pytest.fixture
def mail_app(app):
    """The app, with a few email templates of the tests' own next to the real ones."""
    app.jinja_env.loader = ChoiceLoader([DictLoader(WELCOME), app.jinja_env.loader])
    return app


def parsed(outgoing):
    return email.message_from_bytes(outgoing.data, policy=email.policy.default)


def test_a_template_pair_renders_into_a_multipart_message_with_both_parts(mail_app):
    outgoing = compose(
        mail_app,
        "welcome",
        "ann@example.org",
        {"community": "Riverside", "name": "Ann & Bo", "url": "https://normhub.example/c/r"},
        display_name="Ann Ümlaut",
    )
    message = parsed(outgoing)
    assert message["Subject"] == "Welcome to Riverside, Ann & Bo"
    assert message["From"] == "Riverside NormHub <hello@normhub.example>"
    assert message["To"] == "Ann Ümlaut <ann@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == outgoing.message_id
    assert outgoing.message_id.startswith("<") and outgoing.message_id.endswith("@normhub.example>")
    bodies = parts(message)
    assert bodies["text/plain"] == (
        "Welcome to Riverside, Ann & Bo\r\n\r\nHello Ann & Bo, see https://normhub.example/c/r\r\n"
    )
    # the HTML part is autoescaped, the text part is not
    assert bodies["text/html"] == (
        "<h1>Welcome to Riverside, Ann &amp; Bo</h1><p>Hello Ann &amp; Bo</p>\r\n"
    )


def test_a_key_makes_the_message_id_stable_and_headers_come_in_order(mail_app):
    context = {"community": "R", "name": "Ann", "url": "u"}
    first, second = (
        compose(
            mail_app,
            "welcome",
            "ann@example.org",
            context,
            key="welcome.7",
            headers=(("List-Id", "<r.normhub.example>"), ("X-Kind", "welcome")),
        )
        for _ in range(2)
    )
    assert first.message_id == second.message_id == "<welcome.7@normhub.example>"
    head = first.data.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")
    names = [line.split(":", 1)[0] for line in head]
    assert names.index("Message-ID") < names.index("List-Id") < names.index("X-Kind")
    assert "X-Kind: welcome" in head
    # without a key, every message gets its own
    assert (
        compose(mail_app, "welcome", "a@b.c", context).message_id
        != compose(mail_app, "welcome", "a@b.c", context).message_id
    )


def test_without_subject_txt_the_context_gives_the_subject(mail_app):
    composer = Composer(mail_app)
    message = parsed(composer.compose(Email("nosubject", "a@example.org", {"subject": "Hi"})))
    assert message["Subject"] == "Hi" and parts(message)["text/plain"] == "text\r\n"
    with pytest.raises(KeyError, match="no subject.txt"):
        composer.compose(Email("nosubject", "a@example.org", {}))


@pytest.mark.parametrize("mail_from", ["NormHub <d@normhub.example>", "Nörm <d@normhub.example>"])
def test_a_header_with_a_line_break_cannot_add_headers(mail_app, mail_from):
    mail_app.config["MAIL_FROM"] = mail_from
    with pytest.raises(ValueError, match="be one line"):
        compose(
            mail_app,
            "nosubject",
            "a@example.org",
            {"subject": "Hi"},
            headers=(("X-Note", "one\r\nBcc: victim@example.org"),),
        )


@pytest.mark.parametrize(
    "mail_from, envelope, domain",
    [
        ("NormHub <digest@normhub.example>", "digest@normhub.example", "normhub.example"),
        ("plain@example.org", "plain@example.org", "example.org"),
        ("NormHub <>", "digest@normhub.invalid", "normhub.invalid"),
    ],
)
def test_sender_from_config(mail_from, envelope, domain):
    assert Sender.from_config({"MAIL_FROM": mail_from}) == Sender(mail_from, envelope, domain)


def _build(digest, mail_from, text, html, build=mail_message.build_message):
    """The digest's message, built from its parts the way the run's composer does."""
    sender = Sender.from_config({"MAIL_FROM": mail_from})
    return build(
        sender,
        subject_line(digest),
        formataddr((digest.display_name, digest.email), charset="utf-8"),
        mail_message.message_id(message_key(digest), sender.domain),
        text,
        html,
        digest_email(digest).headers,
    )


def test_message_bytes_decode_to_the_same_parts_as_the_email_package_builds():
    digest = Digest(
        7, "ann@example.org", "Ann Ümlaut", "weekly", "2026-W48",
        datetime(2026, 11, 1), datetime(2026, 11, 8), [], [], [], True, [],
        unsubscribe_url="https://normhub.example/unsubscribe/abc",
    )  # fmt: skip
    text = "Hello Ann — ünïcode\n\n" + "word " * 40 + "\n.dot first\ntrailing space \n"
    html = "<p>Hello</p>\n<p>" + "x" * 200 + "</p>"

    def decoded(outgoing):
        message = email.message_from_bytes(outgoing.data, policy=email.policy.default)
        headers = {k: str(message[k]) for k in ("Subject", "To", "Message-ID", "List-Unsubscribe")}
        return headers, [(p.get_content_type(), p.get_content()) for p in message.iter_parts()]

    direct = _build(digest, "NormHub <digest@normhub.example>", text, html)
    reference = _build(
        digest,
        "NormHub <digest@normhub.example>",
        text,
        html,
        build=mail_message._build_with_email_package,
    )
    assert b"\r\n" in direct.data and b"\n" not in direct.data.replace(b"\r\n", b"")
    assert decoded(direct) == decoded(reference)
    assert decoded(direct)[1][0] == ("text/plain", text.replace("\n", "\r\n"))
    # a non-ASCII From takes the email package's path
    assert _build(digest, "Nörm <d@normhub.example>", text, html).data
