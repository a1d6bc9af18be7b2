"""The member's own data: download it as JSON, or delete the account."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_login import login_required, logout_user

from normhub.accounts import data_export, deletion
from normhub.accounts.forms import DeleteAccountForm
from normhub.auth import current_user_or_none
from normhub.db import get_session
from normhub.web import saving

bp = Blueprint("account_data", __name__)


@bp.get("/settings/account")
@login_required
def overview():
    return render_template("accounts/data.html", form=DeleteAccountForm(formdata=None))


@bp.get("/settings/account/data.json")
@login_required
def download():
    user = current_user_or_none()
    document = data_export.export(get_session(), user)
    # Indented: people open this file to read it.
    response = Response(current_app.json.dumps(document, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="normhub-data-{user.handle}.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/settings/account/delete")
@login_required
def delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        session = get_session()
        with saving(session, form) as attempt:
            deletion.delete_account(
                session,
                current_user_or_none(),
                form.password.data,
                remove_writing=form.remove_writing.data,
            )
        if attempt.ok:
            logout_user()
            flash("Your account is deleted. Thank you for taking part.", "info")
            return redirect(url_for("home.index"), 303)
    return render_template("accounts/data.html", form=form), 400
