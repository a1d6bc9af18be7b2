"""The base of every form: each text field refuses control characters (``normhub.text``).

Forms subclass ``Form`` (a Flask-WTF form, with CSRF) and their nested row
forms ``Subform``. Both add the ``PlainText`` validator to every text field
as it is bound, so no field can be forgotten: a text area may hold tabs and
line breaks, any other text field (names, titles, tags, email addresses,
hidden fields) is one line. Passwords are left as typed: they are only ever
hashed, never stored or shown.

The pieces the forms of several features share live here too: ``answer_field`` for a
question answered by a choice, ``replace_rows`` for refilling a form's list of rows.
"""

from __future__ import annotations

import wtforms
from flask_wtf import FlaskForm
from wtforms import FieldList, PasswordField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from normhub.text import control_character_problem


class PlainText:
    """A WTForms validator: no control characters (tab and line breaks only if ``multiline``)."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field) -> None:
        data = field.data if isinstance(field.data, str) else None
        problem = control_character_problem(data, field.label.text, self.multiline)
        if problem is not None:
            raise ValidationError(problem)


def plain_text_validator(field_class) -> PlainText | None:
    """The validator a field of ``field_class`` gets, or None if it holds no free text."""
    if not issubclass(field_class, StringField) or issubclass(field_class, PasswordField):
        return None
    return PlainText(multiline=issubclass(field_class, TextAreaField))


class _PlainTextMeta:
    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        validator = plain_text_validator(unbound_field.field_class)
        if validator is not None:
            field.validators = [validator, *field.validators]
        return field


class Form(FlaskForm):
    """Every page form's base: CSRF, and text fields that refuse control characters."""

    class Meta(_PlainTextMeta):
        pass


class Subform(wtforms.Form):
    """Rows nested in a ``Form`` (``FormField``): the outer form carries the CSRF token."""

    class Meta(_PlainTextMeta):
        pass


def answer_field(label: str, choices: list[SelectChoice], required: str | None = None):
    """A question answered by one of ``choices`` (the reader's response, a review's answer).

    With ``required`` (what to say when it is left unanswered) it must be answered with one
    of the choices. Without, it may be left unanswered, and its value is not checked here:
    the service checks it, and a row of such questions left unanswered is skipped.
    """
    if required is None:
        return RadioField(label, choices=choices, validate_choice=False)
    return RadioField(label, choices=choices, validators=[InputRequired(required)])


def replace_rows(rows: FieldList, values: list[dict]) -> None:
    """Empty ``rows`` and fill it with one row per item of ``values`` (field name -> value)."""
    while rows.entries:
        rows.pop_entry()
    for value in values:
        rows.append_entry(value)
