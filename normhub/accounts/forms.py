from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from normhub.accounts.models import BIO_MAX, DISPLAY_NAME_MAX, EMAIL_MAX
from normhub.accounts.passwords import PASSWORD_MAX, PASSWORD_MIN
from normhub.forms import Form


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class RegisterForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_MAX)])
    display_name = StringField(
        "Display name", validators=[DataRequired(), Length(max=DISPLAY_NAME_MAX)]
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=f"Password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
    )


class ProfileForm(Form):
    display_name = StringField(
        "Display name", validators=[DataRequired(), Length(max=DISPLAY_NAME_MAX)]
    )
    bio = TextAreaField("About you", validators=[Length(max=BIO_MAX)])


class NewPasswordForm(Form):
    """A new password, typed twice: the reset page's form, and the end of the settings one."""

    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=f"Password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[
            DataRequired(),
            EqualTo("new_password", message="The passwords do not match."),
        ],
    )


class PasswordForm(NewPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])


class ForgotPasswordForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_MAX)])


class EmailChangeForm(Form):
    new_email = EmailField("New email address", validators=[DataRequired(), Length(max=EMAIL_MAX)])
    # Not "current_password": the password form on the same page has that id.
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class DeleteAccountForm(Form):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remove_writing = BooleanField("Also take down my comments and the reasons I gave in responses")
