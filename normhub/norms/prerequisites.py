"""Naming the norms a norm builds on: by title, as people know them, or by address.

The norm form offers the community's norms by title (a datalist) and sends each
box as a line; a line may also hold several names separated by commas, or
slugs, ids and pasted norm addresses, as the form took before. Titles win over
slugs, and a title that holds commas is still one title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from normhub.communities.models import Community
from normhub.errors import NotFound, ValidationFailed
from normhub.norms.models import STATUS_LABELS, Norm
from normhub.norms.services import get_norm

# Enough for any real community; the datalist is a help, typing an address always works.
CHOICES_MAX = 500


@dataclass(frozen=True)
class NormChoice:
    title: str
    slug: str
    status: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def norm_choices(
    session: Session, community: Community, leaving_out: Norm | None = None
) -> list[NormChoice]:
    """The community's norms a norm may build on, by title (for the form's datalist)."""
    query = (
        select(Norm.title, Norm.slug, Norm.status)
        .where(Norm.community_id == community.id, Norm.status != "withdrawn")
        .order_by(Norm.title, Norm.id)
        .limit(CHOICES_MAX)
    )
    if leaving_out is not None:
        query = query.where(Norm.id != leaving_out.id)
    return [NormChoice(title, slug, status) for title, slug, status in session.execute(query)]


def _title_key(text: str) -> str:
    """A title as typed or stored, compared without case, extra spaces or comma spacing."""
    return re.sub(r"\s*,\s*", ",", " ".join(text.split())).casefold()


class _Titles:
    """The community's norms by title, loaded once per form."""

    def __init__(self, session: Session, community: Community):
        self.session = session
        self.by_key: dict[str, list[int]] = {}
        rows = session.execute(select(Norm.id, Norm.title).where(Norm.community_id == community.id))
        for norm_id, title in rows:
            self.by_key.setdefault(_title_key(title), []).append(norm_id)

    def find(self, text: str) -> Norm | None:
        found = self.by_key.get(_title_key(text), [])
        if len(found) > 1:
            raise ValidationFailed(
                f"Several norms here are called “{text.strip()}”: give the address of the "
                "one you mean (the last part of its link).",
                field="prerequisites",
            )
        return self.session.get(Norm, found[0]) if found else None


def _by_address(session: Session, community: Community, raw: str) -> Norm:
    """A norm by slug, id or pasted address (https://host/c/slug/norms/<ref>)."""
    ref = raw.strip().rstrip("/")
    ref = ref.rsplit("/norms/", 1)[-1].split("/", 1)[0]
    try:
        return get_norm(session, community, ref)
    except NotFound:
        raise ValidationFailed(
            f"There is no norm “{raw.strip()}” in this community. Choose one from the list "
            "of its norms, or give its address.",
            field="prerequisites",
        ) from None


def _addresses_in(session: Session, community: Community, piece: str):
    """The norms a piece names by address, several separated by spaces. A piece that is
    not all addresses is reported whole: "Be kind always" is no norm, not "Be"."""
    words = piece.split()
    try:
        return [_by_address(session, community, word) for word in words]
    except ValidationFailed:
        if len(words) == 1:
            raise
        return [_by_address(session, community, piece)]


def _names_in_line(session: Session, community: Community, titles: _Titles, line: str):
    """The norms one line names, left to right: the longest run of comma-separated
    pieces that is a title first, else a piece's words as addresses."""
    whole = titles.find(line)
    if whole is not None:
        yield whole
        return
    pieces = line.split(",")
    start = 0
    while start < len(pieces):
        for end in range(len(pieces), start, -1):
            found = titles.find(",".join(pieces[start:end])) if pieces[start].strip() else None
            if found is not None:
                yield found
                start = end
                break
        else:
            yield from _addresses_in(session, community, pieces[start])
            start += 1


def resolve_norm_refs(session: Session, community: Community, text: str) -> list[Norm]:
    """Norms of ``community`` named in ``text``: one or more per line, by title, slug, id
    or address, comma separated; each once, in the order named."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return []
    titles = _Titles(session, community)
    norms: list[Norm] = []
    for line in lines:
        for norm in _names_in_line(session, community, titles, line):
            if norm not in norms:
                norms.append(norm)
    return norms


def names_of(session: Session, community: Community, norms: list[Norm]) -> str:
    """What the form shows for ``norms``: a title per line, or the address where another
    norm of the community has the same title."""
    titles = _Titles(session, community) if norms else None
    return "\n".join(
        norm.title if len(titles.by_key.get(_title_key(norm.title), [])) == 1 else norm.slug
        for norm in norms
    )
