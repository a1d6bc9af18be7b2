"""The digest run's sending threads and the queue of claimed messages they take from.

Each sender has its own SMTP connection and its own database connection. It takes one
message at a time, hands it to SMTP and commits its outcome (what the run's ``deliver``
does) before it takes the next, so at most one message per thread has been accepted by
the server without its "sent" row committed. ``delivery`` says what each state means.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine

from normhub.digest import delivery
from normhub.digest.content import Digest
from normhub.digest.report import RunReport
from normhub.mail.message import Outgoing
from normhub.mail.transports import SMTPSettingsError

# Messages claimed ("sending", committed) together before they go to SMTP: the queue
# holds at most one such chunk.
CLAIM_CHUNK = 50


class StopRun(Exception):
    pass


@dataclass
class Outbound:
    """A claimed message, composed, waiting for a sending thread."""

    digest: Digest
    send_id: int
    outgoing: Outgoing
    previous_status: str | None


_NO_MORE = None  # put once per sending thread after the last message


class Sender:
    """One sending thread: its own transport (SMTP connection) and database connection."""

    def __init__(self, pool: SenderPool, transport, owns_transport: bool, number: int):
        self.pool = pool
        self.transport = transport
        self.owns_transport = owns_transport
        self._connection: Connection | None = None
        self.thread = threading.Thread(target=self._work, name=f"digest-send-{number}", daemon=True)
        # What the run waits on, rather than thread.join(): a Ctrl-C landing in
        # join() can leave the thread marked finished while it still runs
        # (CPython 3.11), and the process would end under its message.
        self.done = threading.Event()

    def ledger(self) -> Connection:
        if self._connection is None:
            self._connection = delivery.outcome_connection(self.pool.bind)
        return self._connection

    def _work(self) -> None:
        pool = self.pool
        try:
            while (item := pool.queue.get()) is not _NO_MORE:
                if pool.stopping.is_set():
                    pool.give_back(item)
                    continue
                try:
                    pool.deliver(item, self)
                except BaseException as error:  # noqa: BLE001 - handed to the run's thread
                    pool.crashed(error)
        finally:
            try:
                self._close()
            except BaseException as error:  # noqa: BLE001
                pool.crashed(error)
            finally:
                self.done.set()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                delivery.close_outcome_connection(connection)
        finally:
            if self.owns_transport:
                self.transport.close()


class SenderPool:
    """The sending threads, started with the first message, and what they hand back.

    The run's thread builds, claims and composes; it hands claimed messages over
    through a queue of at most one chunk. ``stopping`` is the run's own stop: set,
    the senders give back what they take instead of sending it.
    """

    def __init__(
        self,
        transport,
        workers: int,
        report: RunReport,
        bind: Engine | Connection,
        deliver: Callable[[Outbound, Sender], None],
    ):
        self.transport = transport
        self.workers = workers
        self.report = report
        self.bind = bind
        self.deliver = deliver
        self.queue: queue.Queue = queue.Queue(maxsize=CLAIM_CHUNK)
        self.stopping = threading.Event()
        self._senders: list[Sender] = []
        self._lock = threading.Lock()  # for what the senders give back, or raise
        self._given_back: list[int] = []  # claimed, never handed to SMTP
        self.error: BaseException | None = None

    def hand_over(self, item: Outbound) -> None:
        if not self._senders:
            self._start()
        while True:
            if self.stopping.is_set():
                raise StopRun
            try:
                # Waits while the senders have a chunk in hand; wakes now and
                # then to notice a stop (the senders may all have given up).
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _start(self) -> None:
        """One sender on the caller's (open) transport, the others on new connections.

        The settings were proven by the caller's transport; a server that
        refuses more connections from us leaves the run with fewer senders,
        said so in the report.
        """
        transports = [(self.transport, False)]
        for _ in range(1, self.workers):
            extra = self.transport.another()
            try:
                extra.open()
            except SMTPSettingsError as error:
                self.report.connections = len(transports)
                self.report.problems.append(
                    f"could open only {len(transports)} of {self.workers} SMTP connections: {error}"
                )
                break
            transports.append((extra, True))
        for number, (transport, owned) in enumerate(transports, 1):
            sender = Sender(self, transport, owned, number)
            try:
                sender.thread.start()
            except BaseException:
                if owned:
                    transport.close()
                raise
            # Only a started sender is waited for: one that never ran would
            # never say it is done.
            self._senders.append(sender)

    def stop(self, *, patient: bool = True) -> tuple[KeyboardInterrupt | None, set[int]]:
        """Let the senders empty the queue and end; returns an interrupt to raise, if
        one came, and the claimed messages none of them sent (to give back).

        The main thread usually waits here while the senders work through the
        last chunk, so this is where Ctrl-C (or SIGTERM, see the CLI) mostly
        lands. It stops the run as one during the batches does: each sender
        records the message in hand, the queued ones are given back, and the
        interrupt is returned for the caller to raise. A second one leaves at
        once (the at-least-once case), and so does the first when ``patient``
        is false: the run is already ending on an error or an interrupt.
        """
        senders, self._senders = self._senders, []
        interrupted: KeyboardInterrupt | None = None
        posted = 0
        while True:
            try:
                while posted < len(senders):
                    # Behind every message: each sender takes one and ends. If the
                    # run is stopping, the messages before it are given back unsent.
                    self.queue.put(_NO_MORE)
                    posted += 1
                for sender in senders:
                    sender.done.wait()
                break
            except KeyboardInterrupt as stop:
                if interrupted is not None or not patient:
                    raise
                interrupted = stop
                self.stopping.set()
        with self._lock:
            given_back, self._given_back = self._given_back, []
        return interrupted, set(given_back)

    def give_back(self, item: Outbound) -> None:
        self.keep_unsent([item.send_id])

    def keep_unsent(self, send_ids) -> None:
        """Claimed messages that never reached a sender: given back when the run ends."""
        with self._lock:
            self._given_back.extend(send_ids)

    def still_running(self) -> bool:
        return not self.stopping.is_set()

    def crashed(self, error: BaseException) -> None:
        """Something unexpected in a sender: stop the run, and raise it from the run."""
        with self._lock:
            if self.error is None:
                self.error = error
        self.stopping.set()
