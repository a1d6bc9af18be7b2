"""The forms of the remind flow: whom to check, the action the check allows, the answer."""

from __future__ import annotations

from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from normhub.exposure.models import REMINDER_TEXT_MAX
from normhub.forms import Form

_TOO_LONG = f"Keep it to {REMINDER_TEXT_MAX:,} characters."


class ChoosePersonForm(Form):
    # The choices are the community's active members, set by the view; the
    # service checks the membership again, so a forged id gets nowhere.
    person = SelectField(
        "Whom do you want to remind?",
        id="remind-person",
        validate_choice=False,
        validators=[DataRequired(message="Choose a member.")],
    )


class RemindActionForm(Form):
    """Share the norm or record a reminder: the server decides which is allowed."""

    check_id = HiddenField(id="remind-check-id")
    kind = HiddenField(id="remind-kind")
    text = TextAreaField(
        "Your note", id="remind-text", validators=[Length(max=REMINDER_TEXT_MAX, message=_TOO_LONG)]
    )


class ReminderReplyForm(Form):
    reply = TextAreaField(
        "Your answer",
        validators=[
            DataRequired(message="Write your answer before sending it."),
            Length(max=REMINDER_TEXT_MAX, message=_TOO_LONG),
        ],
    )
