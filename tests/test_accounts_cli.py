"""``flask user create``."""

from __future__ import annotations

from normhub.accounts.models import User
from normhub.accounts.services import authenticate


def test_create_user_with_password_on_stdin(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "user",
            "create",
            "Root@Example.org",
            "--name",
            "Site Admin",
            "--admin",
            "--password-stdin",
        ],
        input="a secret admin password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin user" in result.output
    user = session.query(User).filter_by(email="root@example.org").one()
    assert user.is_admin and user.display_name == "Site Admin"
    assert authenticate(session, "root@example.org", "a secret admin password") is not None


def test_create_user_prompts_twice_for_hidden_password(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["user", "create", "someone@example.org", "--name", "Someone"],
        input="typed password one\ntyped password one\n",
    )
    assert result.exit_code == 0, result.output
    assert "typed password one" not in result.output  # hidden input is not echoed
    user = session.query(User).filter_by(email="someone@example.org").one()
    assert not user.is_admin
    assert authenticate(session, user.email, "typed password one") is not None


def test_create_user_refuses_duplicate_email(app, factory, session):
    existing = factory.user(email="dup@example.org")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["user", "create", existing.email, "--name", "Twin", "--password-stdin"],
        input="another long password\n",
    )
    assert result.exit_code == 1
    assert "An account with this email already exists." in result.output
    assert session.query(User).filter_by(email="dup@example.org").count() == 1


def test_create_user_refuses_short_password(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["user", "create", "short@example.org", "--name", "Shorty", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output
    assert session.query(User).count() == 0
