from __future__ import annotations

from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from normhub.communities.models import ROLES
from normhub.communities.reread import REREAD_MESSAGE, REREAD_MONTHS_MAX
from normhub.communities.services import DESCRIPTION_MAX, MIN_RESPONSES_MAX, OPEN_CAP_MAX
from normhub.forms import Form

MIN_RESPONSES_MESSAGE = f"Enter a number from 0 to {MIN_RESPONSES_MAX:,}."
OPEN_CAP_MESSAGE = f"Enter a number from 1 to {OPEN_CAP_MAX:,}, or leave blank for no cap."

VISIBILITY_CHOICES = [
    SelectChoice("public", "Public: anyone can read it, even without an account"),
    SelectChoice("members", "Members only: invisible to everyone else, even its name"),
]
JOIN_POLICY_CHOICES = [
    SelectChoice("open", "Open: any logged-in person can join"),
    SelectChoice("invite", "Invite only: people join through an invite link"),
]


class CommunityForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        "Address",
        validators=[
            Optional(),
            Length(max=60),
            Regexp(
                r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
                message="Use lowercase letters, digits and dashes.",
            ),
        ],
    )
    description = TextAreaField("Description", validators=[Length(max=DESCRIPTION_MAX)])
    visibility = SelectField("Who can see it", choices=VISIBILITY_CHOICES, default="public")
    join_policy = SelectField("Who can join", choices=JOIN_POLICY_CHOICES, default="open")


class SettingsForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("Description", validators=[Length(max=DESCRIPTION_MAX)])
    visibility = SelectField("Who can see it", choices=VISIBILITY_CHOICES)
    join_policy = SelectField("Who can join", choices=JOIN_POLICY_CHOICES)
    coverage_threshold_pct = IntegerField(
        "Coverage threshold (%)",
        validators=[
            InputRequired(message="Enter a percentage from 0 to 100."),
            NumberRange(0, 100, message="Enter a percentage from 0 to 100."),
        ],
    )
    coverage_min_responses = IntegerField(
        "Minimum responses",
        validators=[
            InputRequired(message=MIN_RESPONSES_MESSAGE),
            NumberRange(0, MIN_RESPONSES_MAX, message=MIN_RESPONSES_MESSAGE),
        ],
    )
    max_open_norms = IntegerField(
        "Most norms open for discussion at once",
        validators=[Optional(), NumberRange(1, OPEN_CAP_MAX, message=OPEN_CAP_MESSAGE)],
    )
    max_open_per_author = IntegerField(
        "Most open norms per author",
        validators=[Optional(), NumberRange(1, OPEN_CAP_MAX, message=OPEN_CAP_MESSAGE)],
    )
    hide_tallies_until_answered = BooleanField(
        "Show members how others answered a norm only once they have answered it"
    )
    reread_months = IntegerField(
        "Ask members to read each norm again every (months)",
        validators=[Optional(), NumberRange(1, REREAD_MONTHS_MAX, message=REREAD_MESSAGE)],
    )


class RoleForm(Form):
    role = SelectField("Role", choices=[SelectChoice(role, role.capitalize()) for role in ROLES])
