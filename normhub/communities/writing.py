"""Help while writing in a community: a Markdown preview and @mention suggestions.

Both answer a script on the norm and comment forms (``writing_views``), and both
work without HTTP. The preview is the page's own renderer with the community's
mentions, so what a writer sees before posting is exactly what the page shows
after. Suggestions name active members of the community only, at most
:data:`SUGGESTIONS_MAX`, so typing "@" in one community never lists the members
of another.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from normhub import policy
from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.communities.services import active_membership, mention_names
from normhub.errors import ValidationFailed
from normhub.markdown import render_markdown

# The longest text a form of the site takes (a norm's essay: norms.models.BODY_MAX).
PREVIEW_MAX = 100_000
SUGGESTIONS_MAX = 8
QUERY_MAX = 60


def preview(
    session: Session, community: Community, text: str, *, with_mentions: bool = True
) -> Markup:
    """``text`` rendered as the page will show it once saved in ``community``.

    ``with_mentions``: as essays and comments are shown, @handles of members named;
    without, as an assumption's explanation is shown, every @handle as typed.
    """
    if len(text) > PREVIEW_MAX:
        raise ValidationFailed(f"A preview takes at most {PREVIEW_MAX:,} characters.")
    mentions = mention_names(session, community, [text]) if with_mentions else None
    return render_markdown(text, mentions)


@dataclass(frozen=True)
class MemberSuggestion:
    handle: str
    name: str

    def to_dict(self) -> dict:
        return {"handle": self.handle, "name": self.name}


def may_suggest_members(session: Session, community: Community, user: User | None) -> bool:
    return policy.allows(
        "community.suggest-members", active_membership(session, community, user), user
    )


def _like_pattern(text: str) -> str:
    """``text`` as a LIKE pattern's literal part (``\\`` escapes ``%`` and ``_``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def suggest_members(
    session: Session, community: Community, query: str, *, leaving_out: User | None = None
) -> list[MemberSuggestion]:
    """Active members whose name or handle matches what follows the "@" typed so far.

    A name matches where one of its words begins with ``query`` (case aside), a
    handle where it begins with it; names beginning with it come first. Empty
    queries suggest no one: the list is for finding a person, not for reading
    the member list.
    """
    query = " ".join((query or "").split())[:QUERY_MAX].lower()
    if not query:
        return []
    literal = _like_pattern(query)
    name = func.lower(User.display_name)
    starts = name.like(f"{literal}%", escape="\\")
    matches = (
        starts
        | name.like(f"% {literal}%", escape="\\")
        | User.handle.like(f"{literal}%", escape="\\")
    )
    statement = (
        select(User.handle, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.community_id == community.id,
            Membership.left_at.is_(None),
            User.deleted_at.is_(None),
            matches,
        )
        .order_by(case((starts, 0), else_=1), name, User.id)
        .limit(SUGGESTIONS_MAX)
    )
    if leaving_out is not None:
        statement = statement.where(User.id != leaving_out.id)
    return [MemberSuggestion(handle, name) for handle, name in session.execute(statement)]
