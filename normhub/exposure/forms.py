"""Forms of the exposure pages: making a check, and replying to one made about you."""

from __future__ import annotations

from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from normhub.exposure.models import NOTE_MAX, REPLY_MAX
from normhub.forms import Form


class CheckForm(Form):
    """The check itself. Norm and person arrive as a slug and an id (from the page's
    lists, or a link that pre-fills them); the view looks both up."""

    community = HiddenField()
    norm = StringField("Norm", validators=[InputRequired("Choose a norm.")])
    member = StringField("Person", validators=[InputRequired("Choose a person.")])
    as_of = StringField("As of", validators=[Optional(), Length(max=64)])
    note = TextAreaField(
        "Why you are checking",
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=f"Keep the note under {NOTE_MAX} characters."),
        ],
        render_kw={"rows": 2},
    )


class ReplyForm(Form):
    text = TextAreaField(
        "Your reply",
        validators=[Length(max=REPLY_MAX, message=f"Keep the reply under {REPLY_MAX} characters.")],
        render_kw={"rows": 3},
    )
    # Where to go afterwards: the list of checks about you (at this page) or the check's page.
    back = HiddenField()
    page = HiddenField()
