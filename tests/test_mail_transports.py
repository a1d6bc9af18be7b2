"""The transports: SMTP to a real server in-process, and the outbox directory."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime

import pytest

from normhub.digest.content import Digest
from normhub.mail.message import Outgoing, compose
from normhub.mail.transports import (
    ConnectionLost,
    OutboxTransport,
    RecipientRefused,
    SMTPSettingsError,
    SMTPTransport,
    TemporaryFailure,
    transport_for,
)
from tests.smtp import Collector, SMTPServer, free_port, parts


def digest_like(app) -> Outgoing:
    """An empty digest through the real digest templates."""
    context = _empty_digest_context()
    return compose(app, "digest", "ann@example.org", context, display_name="Ann", key="t.1")


def _empty_digest_context():
    digest = Digest(
        1, "ann@example.org", "Ann", "weekly", "2026-W48",
        datetime(2026, 11, 1), datetime(2026, 11, 8), [], [], [], True, [],
    )  # fmt: skip
    return {"digest": digest, "subject": "Your NormHub digest — 0 norms need you"}


def test_smtp_delivery_reaches_the_server_with_envelope_and_bytes(app, smtp_server):
    outgoing = digest_like(app)
    transport = smtp_server.transport()
    transport.open()
    try:
        transport.send(outgoing, "digest@normhub.invalid", "ann@example.org")
    finally:
        transport.close()
    (received,) = smtp_server.handler.messages
    assert received.sender == "digest@normhub.invalid"
    assert received.recipients == ["ann@example.org"]
    assert received.message["Message-ID"] == "<t.1@normhub.invalid>"
    assert "Hello Ann," in parts(received.message)["text/plain"]
    # the server got the message as built, only the line ends as SMTP carries them
    assert received.raw.replace(b"\r\n", b"\n") == outgoing.data.replace(b"\r\n", b"\n")


def test_transport_for_uses_smtp_when_a_host_is_set(app, smtp_server):
    assert isinstance(transport_for(app), OutboxTransport)
    app.config.update(smtp_server.settings())
    transport = transport_for(app)
    assert isinstance(transport, SMTPTransport)
    assert transport.description == f"SMTP 127.0.0.1:{smtp_server.port} (none)"


def test_refusals_are_sorted_by_what_to_do_about_them():
    message = Outgoing("<r@normhub.test>", b"Subject: r\r\n\r\nBody\r\n")
    collector = Collector(refuse={"gone@normhub.test"}, defer={"busy@normhub.test"})
    with SMTPServer(collector) as server:
        transport = server.transport()
        transport.open()
        try:
            with pytest.raises(RecipientRefused, match="550") as refused:
                transport.send(message, "a@normhub.test", "gone@normhub.test")
            assert refused.value.code == 550
            with pytest.raises(TemporaryFailure, match="451"):
                transport.send(message, "a@normhub.test", "busy@normhub.test")
            # the connection is still good for the next message
            transport.send(message, "a@normhub.test", "here@normhub.test")
        finally:
            transport.close()
    assert [m.recipients for m in collector.messages] == [["here@normhub.test"]]


def test_the_outbox_writes_a_readable_eml_per_message(app, tmp_path):
    outgoing = digest_like(app)
    transport = OutboxTransport(tmp_path / "outbox")
    transport.open()
    transport.send(outgoing, "digest@normhub.invalid", "ann@example.org")
    transport.send(outgoing, "digest@normhub.invalid", "ann@example.org")  # same id: replaced
    (written,) = list((tmp_path / "outbox").iterdir())
    assert written.name == "t.1.eml"
    assert written.read_bytes() == outgoing.data
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message["To"] == "Ann <ann@example.org>"
    assert set(parts(message)) == {"text/plain", "text/html"}


def test_an_outbox_that_cannot_be_created_is_a_settings_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SMTPSettingsError, match="Cannot create the outbox directory"):
        OutboxTransport(blocker / "outbox").open()


@pytest.mark.parametrize(
    "make_transport, expected",
    [
        (lambda port: SMTPTransport("127.0.0.1", port, "none", timeout=5), "Could not connect"),
        (
            lambda port: SMTPTransport("127.0.0.1", port, "ssl", timeout=5),
            "NORMHUB_SMTP",
        ),
    ],
)
def test_bad_smtp_settings_fail_fast(make_transport, expected):
    transport = make_transport(free_port())  # nothing listens there
    with pytest.raises(SMTPSettingsError, match=expected):
        transport.open()


@pytest.mark.parametrize("may_retry", [True, False])
def test_a_dropped_connection_is_retried_unless_the_run_is_stopping(may_retry):
    """A stopping run does not wait for a reconnect and a second try (another timeout)."""
    message = Outgoing("<retry@normhub.test>", b"Subject: retry\r\n\r\nBody\r\n")
    with SMTPServer(Collector(drop_once_after=0)) as server:
        transport = server.transport()
        transport.open()
        try:
            if may_retry:
                transport.send(message, "a@normhub.test", "b@normhub.test", may_retry=lambda: True)
            else:
                with pytest.raises(ConnectionLost, match="not retried"):
                    transport.send(
                        message, "a@normhub.test", "b@normhub.test", may_retry=lambda: False
                    )
        finally:
            transport.close()
    assert server.handler.drops == 1
    assert len(server.handler.messages) == (1 if may_retry else 0)
