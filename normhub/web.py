"""Small helpers shared by the views of every feature."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from normhub.auth import current_user_or_none
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


# -- Drafts kept in the browser (static/writing.js) ------------------------------------------
#
# A form with ``data-draft-key`` keeps what is typed in the browser until the server says
# it was saved: the view that saved it flashes the same key in the "draft-sent" category,
# which the page after the redirect carries (base.html) and the script forgets.

DRAFT_SENT = "draft-sent"


def draft_key(action: str, part: str | int | None = None) -> str:
    """The name a form's unsent text is kept under: whose it is, the address the form
    posts to, and which of that address's forms (a reply, say) when there are several."""
    viewer = current_user_or_none()
    owner = viewer.id if viewer is not None else "anonymous"
    return f"{owner}:{action}" + (f"#{part}" if part else "")


def draft_sent(action: str, part: str | int | None = None) -> None:
    """Tell the next page that the text of this form was saved: its draft may go."""
    flash(draft_key(action, part), DRAFT_SENT)


# -- What kind of load a GET is (Fetch Metadata) -------------------------------------------
#
# A page view may record that someone saw something (the norm page's "opened"),
# but only when a person opened the page: not when it was loaded as an image,
# script or frame by another page (a Markdown image can point anywhere on this
# site), fetched by a script, or prefetched by the browser in case of a click.
# Browsers say which with the Sec-Fetch-* headers; old browsers and scripted
# clients send none, and are taken at their word unless they say "prefetch".

_PREFETCH_HEADERS = ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")


def is_prefetch(request) -> bool:
    """The browser is loading this ahead of a click that may never come."""
    return any(
        "prefetch" in request.headers.get(name, "").lower()
        or request.headers.get(name, "").lower() == "preview"
        for name in _PREFETCH_HEADERS
    )


def is_page_visit(request) -> bool:
    """A top-level page load a person asked for (a link followed, an address typed)."""
    if is_prefetch(request):
        return False
    destination = request.headers.get("Sec-Fetch-Dest")
    mode = request.headers.get("Sec-Fetch-Mode")
    if destination is not None:
        # "document" only: a frame navigates too (mode "navigate", dest "iframe").
        return destination.lower() == "document" and (mode is None or mode.lower() == "navigate")
    if mode is not None:
        return mode.lower() == "navigate"
    return True


def is_script_request(request) -> bool:
    """A script's own request (fetch: destination "empty"), or a client that sends no
    Fetch Metadata (curl, an old browser); never a page, image, frame or prefetch."""
    if is_prefetch(request):
        return False
    destination = request.headers.get("Sec-Fetch-Dest")
    return destination is None or destination.lower() == "empty"
