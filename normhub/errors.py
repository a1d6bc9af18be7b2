"""The errors every feature's service layer raises.

Services raise these; views turn them into form messages, 403 or 404 pages,
and the API into JSON errors with the matching status.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the operation; the message is for the user."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409
