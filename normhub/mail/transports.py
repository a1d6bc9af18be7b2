"""Handing built emails to an SMTP server, or to the outbox directory in development.

:class:`SMTPTransport` keeps one connection open for every message it sends
(reconnecting once if the server drops it); a run with several sending
threads gives each its own, made with ``another()``. :class:`OutboxTransport`
writes ``.eml`` files when no SMTP host is configured.
Both take the same :class:`Outgoing` message bytes, so everything up to
the transport is the same code path.

Errors are sorted by what the caller should do about them:

* :class:`SMTPSettingsError`: the settings are wrong (no such host, connection
  refused, TLS or login failed). Raised by ``open()``, before any message.
* :class:`RecipientRefused`: the server refused the address permanently (5xx
  on RCPT): a bounce, do not retry.
* :class:`TemporaryFailure`: this message failed but a later run may succeed
  (4xx, or the server rejected the message itself).
* :class:`ConnectionLost`: the connection dropped and reconnecting once did not
  help: stop the run, leave everyone else for the next one.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import uuid
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from normhub.mail.message import Outgoing


class TransportError(Exception):
    """Base class: ``str(error)`` is a message for the operator."""


class SMTPSettingsError(TransportError):
    pass


class RecipientRefused(TransportError):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


class TemporaryFailure(TransportError):
    pass


class ConnectionLost(TransportError):
    pass


class SMTPTransport:
    def __init__(
        self,
        host: str,
        port: int,
        security: str = "starttls",
        user: str | None = None,
        password: str | None = None,
        timeout: float = 20,
    ):
        if security not in ("starttls", "ssl", "none"):
            raise SMTPSettingsError(
                f"NORMHUB_SMTP_SECURITY must be starttls, ssl or none, not {security!r}."
            )
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout
        self._connection: smtplib.SMTP | None = None

    @classmethod
    def from_config(cls, config) -> SMTPTransport:
        return cls(
            config["SMTP_HOST"],
            int(config["SMTP_PORT"]),
            config.get("SMTP_SECURITY") or "starttls",
            config.get("SMTP_USER"),
            config.get("SMTP_PASSWORD"),
            config.get("SMTP_TIMEOUT") or 20,
        )

    @property
    def description(self) -> str:
        return f"SMTP {self.host}:{self.port} ({self.security})"

    def another(self) -> SMTPTransport:
        """A second transport with these settings, not yet open: one per sending thread."""
        return SMTPTransport(
            self.host, self.port, self.security, self.user, self.password, self.timeout
        )

    def _connect(self) -> smtplib.SMTP:
        where = f"{self.host}:{self.port}"
        context = ssl.create_default_context()
        try:
            if self.security == "ssl":
                connection = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            connection.ehlo()
            if self.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
            if self.user:
                connection.login(self.user, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise SMTPSettingsError(
                f"The SMTP server at {where} refused the login for {self.user!r}: "
                f"{_reply(exc)}. Check NORMHUB_SMTP_USER and NORMHUB_SMTP_PASSWORD."
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise SMTPSettingsError(
                f"The SMTP server at {where} does not support what NORMHUB_SMTP_SECURITY="
                f"{self.security} needs ({exc}). Try another security setting or port."
            ) from exc
        except ssl.SSLError as exc:
            raise SMTPSettingsError(
                f"TLS with the SMTP server at {where} failed ({exc.reason or exc}). "
                "Check NORMHUB_SMTP_SECURITY (ssl is usually port 465, starttls port 587)."
            ) from exc
        except socket.gaierror as exc:
            raise SMTPSettingsError(
                f"The SMTP host {self.host!r} could not be found ({exc.strerror}). "
                "Check NORMHUB_SMTP_HOST."
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SMTPSettingsError(
                f"Could not connect to the SMTP server at {where}: {exc or type(exc).__name__}. "
                "Check NORMHUB_SMTP_HOST, NORMHUB_SMTP_PORT and that the server is running."
            ) from exc
        return connection

    def open(self) -> None:
        self._connection = self._connect()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()

    def abort(self) -> None:
        """Drop the connection without QUIT: another thread may still be in a dialogue on it."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def send(
        self,
        outgoing: Outgoing,
        sender: str,
        recipient: str,
        *,
        may_retry: Callable[[], bool] = lambda: True,
    ) -> None:
        """Hand one message to the server; on a dropped connection, reconnect and try once more.

        ``may_retry`` is asked before that second try: a run that is stopping
        says no, so a graceful stop is not kept waiting for another timeout.
        """
        try:
            self._send_once(outgoing, sender, recipient)
        except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
            # The server (or the network) dropped us: reconnect once and retry
            # this message; if that fails too, the run stops.
            self.abort()
            if not may_retry():
                raise ConnectionLost(
                    f"Lost the connection to {self.description} ({exc or type(exc).__name__}); "
                    "not retried, as the run is stopping."
                ) from exc
            try:
                self.open()
                self._send_once(outgoing, sender, recipient)
            except (
                SMTPSettingsError,
                smtplib.SMTPServerDisconnected,
                ConnectionError,
                TimeoutError,
            ) as again:
                self._connection = None
                raise ConnectionLost(
                    f"Lost the connection to {self.description} ({exc or type(exc).__name__}) "
                    f"and reconnecting did not help ({again or type(again).__name__})."
                ) from again

    def _send_once(self, outgoing: Outgoing, sender: str, recipient: str) -> None:
        if self._connection is None:
            raise smtplib.SMTPServerDisconnected("not connected")
        try:
            self._connection.sendmail(sender, [recipient], outgoing.data)
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (550, b"refused"))
            text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            if 500 <= code < 600:
                raise RecipientRefused(f"{code} {text}", code) from exc
            self._reset()
            raise TemporaryFailure(f"{code} {text}") from exc
        except smtplib.SMTPResponseException as exc:
            # Sender refused, message rejected, 421 "closing" and the like.
            self._reset()
            raise TemporaryFailure(_reply(exc)) from exc
        except smtplib.SMTPException as exc:
            self._reset()
            raise TemporaryFailure(str(exc) or type(exc).__name__) from exc

    def _reset(self) -> None:
        try:
            if self._connection is not None:
                self._connection.rset()
        except (OSError, smtplib.SMTPException):
            self.close()


class OutboxTransport:
    """Writes each message as an ``.eml`` file: the development default, no SMTP needed."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    @property
    def description(self) -> str:
        return f"outbox {self.directory}"

    def another(self) -> OutboxTransport:
        return OutboxTransport(self.directory)

    def open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SMTPSettingsError(
                f"Cannot create the outbox directory {self.directory}: {exc.strerror}."
            ) from exc

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def send(self, outgoing: Outgoing, sender: str, recipient: str, **_smtp_only) -> None:
        # Takes SMTPTransport.send's options (may_retry): a file write has no connection to retry.
        stem = outgoing.message_id.strip("<>").split("@")[0]
        final = self.directory / f"{stem}.eml"
        partial = self.directory / f".{stem}.{uuid.uuid4().hex}.tmp"
        try:
            partial.write_bytes(outgoing.data)
            partial.replace(final)  # readers never see half a message
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise TemporaryFailure(f"Could not write {final}: {exc.strerror}") from exc


def transport_for(app: Flask):
    config = app.config
    if config.get("SMTP_HOST"):
        return SMTPTransport.from_config(config)
    return OutboxTransport(config["OUTBOX_DIR"])


def _reply(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return f"{exc.smtp_code} {text}"
