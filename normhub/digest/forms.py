"""The digest settings form: one select per community the member is active in."""

from __future__ import annotations

from wtforms import SelectChoice, SelectField
from wtforms.validators import InputRequired

from normhub.digest.models import FREQUENCIES, FREQUENCY_LABELS
from normhub.digest.preferences import PreferenceRow
from normhub.forms import Form

CHOICES = [SelectChoice(value, FREQUENCY_LABELS[value]) for value in FREQUENCIES]


def field_name(community_id: int) -> str:
    return f"community_{community_id}"


def preferences_form(rows: list[PreferenceRow], formdata=None) -> Form:
    """A form class made for this member's communities, bound to the request (or to ``rows``)."""

    class DigestPreferencesForm(Form):
        pass

    for row in rows:
        setattr(
            DigestPreferencesForm,
            field_name(row.community.id),
            SelectField(
                f"Digest from {row.community.name}",
                choices=CHOICES,
                default=row.frequency,
                validators=[InputRequired()],
            ),
        )
    if formdata is None:
        return DigestPreferencesForm()
    return DigestPreferencesForm(formdata=formdata)


def chosen(form: Form, rows: list[PreferenceRow]) -> dict[int, str]:
    return {row.community.id: form[field_name(row.community.id)].data for row in rows}
