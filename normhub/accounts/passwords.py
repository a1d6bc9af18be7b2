"""What a password must be: long enough, not too long, and not one everybody tries first."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from normhub.errors import ValidationFailed

PASSWORD_MIN = 10
PASSWORD_MAX = 200
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

TOO_COMMON = (
    "That password is on the list of passwords people use most, so it is among the first "
    "that attackers try. Choose another: a few unrelated words make a good one."
)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once per process."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    # "Pass Word 1234" is "password1234" to anyone guessing.
    return "".join(password.split()).lower() in common_passwords()


def check_password(password: str, field: str = "password") -> None:
    """Raise ValidationFailed (on ``field``) unless ``password`` may be used."""
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(f"Password must be at least {PASSWORD_MIN} characters.", field=field)
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(f"Password must be at most {PASSWORD_MAX} characters.", field=field)
    if is_common(password):
        raise ValidationFailed(TOO_COMMON, field=field)
