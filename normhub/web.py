"""Small helpers shared by the views of every feature."""

from __future__ import annotations

from flask_wtf import FlaskForm

from normhub.errors import DomainError


def attach_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to the field it is about, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
