"""A real SMTP server in-process, for every test that sends mail.

The server is aiosmtpd's ``Controller`` on 127.0.0.1 and a free port. Its
handler keeps every accepted message, can refuse chosen addresses with 5xx or
4xx, and can drop the connection instead of accepting (a "killed" server).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from normhub.mail.transports import SMTPTransport

# The longest a ``together`` message waits for the others: a client waiting
# for the reply needs an SMTP timeout longer than this (NORMHUB_SMTP_TIMEOUT).
TOGETHER_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class Collector:
    """aiosmtpd handler: collects messages; refuses or drops on request."""

    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    defer: set[str] = field(default_factory=set)
    drop_after: int | None = None
    # Drop the connection once, on the first message after this many.
    drop_once_after: int | None = None
    drops: int = 0
    # The client port of each accepted message: which connection carried it.
    connections: list[int] = field(default_factory=list)
    # Hold the message after this many until ``release`` is set, then refuse it:
    # lets a test kill the sending process while it waits for the reply.
    stall_after: int | None = None
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    # Hold each message until this many connections have one in hand (or
    # TOGETHER_SECONDS pass): senders on several hosts then provably overlap.
    together: int | None = None
    in_hand: set = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        if address in self.defer:
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.together is not None:
            await self._wait_for_the_others(session.peer)
        if self.stall_after is not None and len(self.messages) >= self.stall_after:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Not accepted"
        dropping_once = (
            self.drop_once_after is not None
            and len(self.messages) >= self.drop_once_after
            and self.drops == 0
        )
        if dropping_once or (self.drop_after is not None and len(self.messages) >= self.drop_after):
            # Like a server killed mid-dialogue: the message is never accepted.
            self.drops += 1
            server.transport.close()
            return "421 4.3.2 Going away"
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        self.connections.append(session.peer[1])
        return "250 2.0.0 Accepted"

    async def _wait_for_the_others(self, peer) -> None:
        self.in_hand.add(peer)
        deadline = asyncio.get_running_loop().time() + TOGETHER_SECONDS
        while len(self.in_hand) < self.together:
            if asyncio.get_running_loop().time() > deadline:
                return  # the test's own counts will say what went wrong
            await asyncio.sleep(0.02)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.recipients]


class SMTPServer:
    def __init__(self, handler: Collector, **kwargs):
        self.handler = handler
        self.port = free_port()
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def settings(self) -> dict:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_SECURITY": "none"}

    def transport(self) -> SMTPTransport:
        return SMTPTransport("127.0.0.1", self.port, "none", timeout=5)


def parts(message) -> dict[str, str]:
    """{content type: decoded text} of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}
