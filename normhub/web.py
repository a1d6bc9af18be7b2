"""Small helpers shared by the views of every feature."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from normhub.errors import DomainError


def attach_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to the field it is about, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@dataclass
class Attempt:
    """What became of a change made under :func:`saving`."""

    ok: bool = False
    error: DomainError | None = None


@contextmanager
def saving(session: Session, form: FlaskForm | None = None) -> Iterator[Attempt]:
    """The ending every form view shares: commit the change, or roll it back and say why.

    A service's refusal (DomainError) inside the block rolls the transaction
    back and lands next to the form's field (flashed when there is no form);
    otherwise the change commits. The view then flashes its own success
    message and redirects when ``attempt.ok``.
    """
    attempt = Attempt()
    try:
        yield attempt
    except DomainError as error:
        session.rollback()
        attempt.error = error
        if form is not None:
            attach_error(form, error)
        else:
            flash(error.message, "error")
    else:
        session.commit()
        attempt.ok = True
