from __future__ import annotations

from wtforms import HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from normhub.discussion.models import COMMENT_MAX
from normhub.forms import Form
from normhub.ids import parse_id
from normhub.norms.models import Assumption
from normhub.text import with_direction_closed

WHOLE_NORM = ""
ABOUT_LABEL_MAX = 80

_body_validators = [
    DataRequired(message="Write something before posting."),
    Length(max=COMMENT_MAX, message=f"A comment must be at most {COMMENT_MAX:,} characters."),
]


def _short(text: str, limit: int = ABOUT_LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class CommentForm(Form):
    """A new top-level comment or a reply (``parent_id`` set)."""

    # Explicit ids: the norm page holds other forms with fields named "body".
    body = TextAreaField("Your comment (Markdown)", validators=_body_validators, id="comment-body")
    about = SelectField(
        "About",
        id="comment-about",
        choices=[SelectChoice(WHOLE_NORM, "the norm as a whole")],
        default=WHOLE_NORM,
        invalid_choice_message="Choose the norm as a whole or one of its current assumptions.",
    )
    parent_id = HiddenField(
        id="comment-parent", validators=[Optional(), Regexp(r"^\d{1,18}$", message="Bad reply.")]
    )

    def set_assumptions(self, assumptions: list[Assumption]) -> None:
        self.about.choices = [SelectChoice(WHOLE_NORM, "the norm as a whole")] + [
            SelectChoice(
                str(a.key),
                # The label ends with the statement: what it opens ends there (normhub.text).
                f"Assumption {a.position}: {with_direction_closed(_short(a.statement))}",
            )
            for a in assumptions
        ]

    @property
    def assumption_key(self) -> int | None:
        return int(self.about.data) if self.about.data else None

    @property
    def parent_comment_id(self) -> int | None:
        return parse_id(self.parent_id.data)


class EditCommentForm(Form):
    body = TextAreaField("Your comment (Markdown)", validators=_body_validators)
