from __future__ import annotations

from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length

from normhub.api.models import TOKEN_DEFAULT_LIFETIME, TOKEN_LIFETIMES, TOKEN_NAME_MAX
from normhub.forms import Form

LIFETIME_LABELS = {30: "30 days", 90: "90 days", 365: "1 year"}


class TokenForm(Form):
    name = StringField(
        "Token name",
        validators=[
            DataRequired(message="Give the token a name, e.g. where you will use it."),
            Length(
                max=TOKEN_NAME_MAX, message=f"The name must be at most {TOKEN_NAME_MAX} characters."
            ),
        ],
    )
    days = RadioField(
        "Works for",
        choices=[SelectChoice(days, LIFETIME_LABELS[days]) for days in TOKEN_LIFETIMES],
        coerce=int,
        default=TOKEN_DEFAULT_LIFETIME,
        validate_choice=True,
    )
