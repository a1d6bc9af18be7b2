from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from normhub.api.models import TOKEN_NAME_MAX


class TokenForm(FlaskForm):
    name = StringField(
        "Token name",
        validators=[
            DataRequired(message="Give the token a name, e.g. where you will use it."),
            Length(
                max=TOKEN_NAME_MAX, message=f"The name must be at most {TOKEN_NAME_MAX} characters."
            ),
        ],
    )
