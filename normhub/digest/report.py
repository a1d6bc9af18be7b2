"""What a digest run did, counted by its threads as they go, and said in one paragraph."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from normhub.digest.delivery import MAX_ATTEMPTS


@dataclass
class RunReport:
    period_kind: str
    period_key: str
    transport: str
    dry_run: bool = False
    candidates: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    bounced: int = 0
    suppressed: int = 0
    resent: int = 0
    busy: int = 0
    would_send: int = 0
    gave_up: int = 0
    not_attempted: int = 0
    # SMTP connections the run sent over, when fewer could be opened than asked for.
    connections: int | None = None
    stopped: str | None = None
    problems: list[str] = field(default_factory=list)
    # Called with the number of members dealt with, as they are.
    progress: Callable[[int], object] = field(default=lambda n: None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, *, problem: str | None = None, stopped: str | None = None, **counts) -> None:
        """Add to the counters and move the progress bar, one thread at a time."""
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)
            if problem:
                self.problems.append(problem)
            if stopped and not self.stopped:
                self.stopped = stopped
            done = sum(n for name, n in counts.items() if name != "resent")
            if done:
                self.progress(done)

    def summary(self) -> str:
        if self.dry_run:
            return (
                f"Dry run for {self.period_kind} digest {self.period_key}: "
                f"{self.would_send} would be sent, {self.skipped} skipped (nothing new), "
                f"{self.suppressed} suppressed (address bounced or blocked). "
                "Nothing was sent or recorded."
            )
        parts = [
            f"{self.period_kind.capitalize()} digest {self.period_key} via {self.transport}:",
            f"sent {self.sent}, skipped {self.skipped} (nothing new),",
            f"failed {self.failed}, bounced {self.bounced}.",
        ]
        if self.suppressed:
            parts.append(
                f"{self.suppressed} not mailed: their address bounced earlier or is blocked."
            )
        if self.resent:
            parts.append(f"{self.resent} resent after an interrupted run (at-least-once).")
        if self.busy:
            parts.append(f"{self.busy} left alone: another run is sending them now.")
        if self.gave_up:
            parts.append(f"{self.gave_up} given up after {MAX_ATTEMPTS} failed attempts.")
        if self.not_attempted:
            parts.append(f"{self.not_attempted} not attempted: rerun to send them.")
        if self.connections is not None:
            parts.append(f"Sent over {self.connections} SMTP connection(s) only.")
        return " ".join(parts)
