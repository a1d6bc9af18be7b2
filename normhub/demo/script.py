"""The shapes the demo is written in: people, norm texts, and the steps of a norm's story.

Each norm is a list of steps played in order through the real service
functions (see :mod:`normhub.demo.cli`), so versions, responses, exposure
and comments are exactly what members would have produced by hand.

Assumptions are referred to by their position in the version current at that
step; ``A(..., continues=N)`` carries assumption N of the previous version into
a revision (same cross-version key, possibly reworded).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Person:
    handle: str
    display_name: str
    bio: str = ""

    @property
    def email(self) -> str:
        return f"{self.handle}@example.org"


@dataclass(frozen=True)
class A:
    statement: str
    explanation: str = ""
    continues: int | None = None


@dataclass(frozen=True)
class Text:
    title: str
    summary: str
    body: str
    assumptions: list[A]
    tags: list[str] = field(default_factory=list)


# Steps -----------------------------------------------------------------------


@dataclass(frozen=True)
class Open:
    by: str


@dataclass(frozen=True)
class Respond:
    who: str
    understood: str
    endorsement: str
    reason: str = ""
    # assumption position -> (understood, agreement, reason)
    answers: dict[int, tuple[str, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Say:
    """A comment; ``label`` lets later steps reply to, edit or hide it."""

    label: str
    who: str
    body: str
    about: int | None = None  # assumption position in the current version
    reply_to: str | None = None


@dataclass(frozen=True)
class Edit:
    label: str
    body: str


@dataclass(frozen=True)
class Hide:
    label: str
    by: str


@dataclass(frozen=True)
class Revise:
    by: str
    text: Text
    change_summary: str
    material: bool = True


@dataclass(frozen=True)
class Status:
    by: str
    to: str
    note: str = ""


@dataclass(frozen=True)
class Join:
    """``who`` joins the norm's community now (an open one), after what came before."""

    who: str


@dataclass(frozen=True)
class Leave:
    who: str


@dataclass(frozen=True)
class Glance:
    """``who`` opens the norm's page (its current version) and reads no further."""

    who: str


@dataclass(frozen=True)
class Read:
    """``who`` reads the current version to the end (what the page's read report records)."""

    who: str


@dataclass(frozen=True)
class DigestOff:
    """``who`` turns off the digest of the norm's community."""

    who: str


@dataclass(frozen=True)
class BuildsOn:
    """``by`` files the norm as building on the norms with these titles (same community)."""

    by: str
    titles: list[str]


@dataclass(frozen=True)
class ReviewOpens:
    """The norm's review date has come: a round opens and its responders are asked."""


@dataclass(frozen=True)
class ReviewAnswer:
    """``who`` answers the open review: did it work, and (by assumption position)
    whether each assumption held, failed or is unclear, with a sentence of evidence."""

    who: str
    worked: str
    evidence: str
    answers: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewDecided:
    by: str
    outcome: str
    note: str = ""


@dataclass(frozen=True)
class NormScript:
    author: str
    text: Text
    steps: list = field(default_factory=list)


@dataclass(frozen=True)
class CommunityScript:
    name: str
    slug: str
    description: str
    visibility: str
    join_policy: str
    creator: str
    stewards: list[str]
    members: list[str]
    norms: list[NormScript]
