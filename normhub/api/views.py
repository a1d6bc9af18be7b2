"""The JSON API (v1) and the settings page for personal API tokens.

API requests authenticate with ``Authorization: Bearer <token>`` or with the
browser's login session. Errors are JSON ``{"error": {"status", "message"}}``
(normhub.error_pages does that for every path under /api/).
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_login import login_required

from normhub import policy
from normhub.accounts.models import User
from normhub.api import services
from normhub.api.bearer import (
    API_ROOT,
    BAD_TOKEN,
    LOGIN_NEEDED,
    api_caller,
    checks_token_itself,
    require_api_caller,
    unauthorized,
)
from normhub.api.forms import TokenForm
from normhub.api.path import path_document
from normhub.auth import current_user_or_none
from normhub.autocommit import get_direct_connection
from normhub.communities.models import Community
from normhub.communities.services import active_membership, get_visible_community
from normhub.db import begin_write, get_session
from normhub.exposure.check import check_exposure, record_check
from normhub.exposure.coverage import coverage as exposure_coverage
from normhub.exposure.coverage import not_exposed_for_steward
from normhub.exposure.history import parse_as_of
from normhub.norms.models import Norm
from normhub.norms.services import get_norm
from normhub.web import is_script_request, saving

bp = Blueprint("api", __name__)

TIMELINE_LIMIT = 50
API_PREFIX = "/api/v1"
OPENAPI_FILE = Path(__file__).with_name("openapi.json")
SCRIPTS_ONLY = (
    "An exposure check is recorded in your name, so signed in through the browser it is "
    "made only from a script (fetch), never for a page, image, frame or prefetch. Use an "
    "API token, or the check page."
)


def private_api_responses(response):
    # Exposure answers are about people: never let a shared cache keep them.
    if request.path.startswith(API_ROOT) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# -- API endpoints ------------------------------------------------------------


def _community_and_norm(session, caller: User, community_slug: str, norm_ref: str):
    """Both looked up under the shared visibility policy (members-only: 404 to outsiders)."""
    community = get_visible_community(session, community_slug, caller)
    return community, get_norm(session, community, norm_ref)


def _refused(message: str):
    response = jsonify({"error": {"status": 403, "message": message}})
    response.status_code = 403
    return response


def _community_ref(community: Community) -> dict:
    return {"slug": community.slug, "name": community.name}


def _with_context(document: dict, community: Community, norm: Norm) -> dict:
    document["community"] = _community_ref(community)
    document["norm"] = {**document.get("norm", {}), "status": norm.status}
    return document


@bp.get(f"{API_PREFIX}/communities/<community_slug>/norms/<norm_ref>/exposure/<member_ref>")
@checks_token_itself
def exposure(community_slug: str, norm_ref: str, member_ref: str):
    token_hash = g.get("api_token_hash")
    if token_hash is None and not is_script_request(request):
        # A check is recorded in the caller's name: no page may make one by
        # pointing an <img>, a frame, a prefetch or a link here.
        return _refused(SCRIPTS_ONLY)
    # Reads that need no common snapshot and one INSERT: no transaction needed.
    db = get_direct_connection()
    parties = services.resolve_check(
        db,
        community_slug,
        norm_ref,
        member_ref.strip(),
        token_hash=token_hash,
        caller=None if token_hash else require_api_caller(),
    )
    if parties is None:  # the token is unknown or revoked, or the account is gone
        if token_hash is None:
            return unauthorized(LOGIN_NEEDED)
        return unauthorized(BAD_TOKEN, invalid_token=True)
    # Most checks send no query: don't build an empty MultiDict for them.
    args = request.args if request.query_string else {}
    as_of_text = args.get("as_of")
    as_of = parse_as_of(as_of_text) if as_of_text is not None else None
    # The ledger timeline costs a query per check: only when asked for.
    with_timeline = args.get("timeline", "").lower() in ("1", "true", "yes")
    report = check_exposure(
        db,
        parties.norm,
        parties.subject,
        as_of=as_of,
        timeline_limit=TIMELINE_LIMIT if with_timeline else 0,
        fact_rows=parties.fact_rows if as_of is None else None,
    )
    # Every check is recorded (committed by the INSERT itself), so the person
    # checked can see who asked.
    checked_at = record_check(db, parties.caller, parties.subject, parties.norm, report)
    if parties.token is not None:
        services.touch_token(db, parties.token)  # commits by itself on a DirectConnection
    document = _with_context(report.to_dict(), parties.community, parties.norm)
    if not with_timeline:
        del document["timeline"]
    document["checked_at"] = checked_at.isoformat() + "Z"
    return jsonify(document)


@bp.get(f"{API_PREFIX}/communities/<community_slug>/norms/<norm_ref>/coverage")
def coverage(community_slug: str, norm_ref: str):
    session = get_session()
    caller = require_api_caller()
    # Aggregate counts are for anyone who may see the norm (no individual data).
    community, norm = _community_and_norm(session, caller, community_slug, norm_ref)
    document = exposure_coverage(session, norm).to_dict()
    document.update(_not_exposed_counts(session, caller, community, norm))
    token = g.get("api_token")
    if token is not None and services.needs_touch(token):
        begin_write(session)
        services.touch_token(session, token)
        session.commit()
    return jsonify(_with_context(document, community, norm))


def _not_exposed_counts(session, caller: User, community: Community, norm: Norm) -> dict:
    """The caller's not-yet-exposed list counted (stewards only; null for anyone else)."""
    membership = active_membership(session, community, caller)
    if not policy.allows("exposure.see-not-exposed", membership, caller):
        return {"not_exposed": None, "not_exposed_digest_off": None}
    listed = not_exposed_for_steward(session, norm, caller, limit=0)
    return {"not_exposed": listed.total, "not_exposed_digest_off": listed.unreachable}


@bp.get(f"{API_PREFIX}/communities/<community_slug>/path")
def newcomer_path(community_slug: str):
    """The community's path for newcomers; with the caller's progress when they are a member."""
    session = get_session()
    caller = api_caller()
    community = get_visible_community(session, community_slug, caller)
    membership = active_membership(session, community, caller)
    return jsonify(path_document(session, community, caller if membership else None))


@bp.get(f"{API_PREFIX}/openapi.json")
def openapi():
    response = current_app.response_class(_openapi_document(), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


_openapi_cache: dict[str, bytes] = {}


def _openapi_document() -> bytes:
    if "document" not in _openapi_cache:
        _openapi_cache["document"] = OPENAPI_FILE.read_bytes()
    return _openapi_cache["document"]


# -- Settings page: personal API tokens --------------------------------------


def _tokens_page(form: TokenForm, new_secret: str | None = None, status: int = 200):
    user = current_user_or_none()
    tokens = services.list_tokens(get_session(), user)
    response = render_template(
        "api/tokens.html",
        form=form,
        tokens=tokens,
        new_secret=new_secret,
        api_prefix=API_PREFIX,
    )
    headers = {"Cache-Control": "no-store"} if new_secret else {}
    return response, status, headers


# The session key that carries a new token's secret from the POST to the page after it.
NEW_SECRET = "api_token_shown_once"  # noqa: S105 (a key name, not a secret)


@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    if request.method == "GET":
        # Shown on the first page after creation only: a reload finds it gone (and
        # creates nothing, as sending the form again would). The database keeps just the
        # hash; the session held the secret for this one redirect.
        return _tokens_page(form, new_secret=flask_session.pop(NEW_SECRET, None))
    if form.validate_on_submit():
        session = get_session()
        with saving(session, form) as attempt:
            token, secret = services.create_token(
                session, current_user_or_none(), form.name.data, form.days.data
            )
        if attempt.ok:
            flask_session[NEW_SECRET] = secret
            flash(f"Token “{token.name}” is created. Copy it now.", "success")
            return redirect(url_for("api.tokens", _anchor="new-token-heading"), 303)
    return _tokens_page(form, status=400)


@bp.post("/settings/tokens/<id:token_id>/revoke")
@login_required
def revoke(token_id: int):
    session = get_session()
    token = services.revoke_token(session, current_user_or_none(), token_id)
    session.commit()
    flash(f"Token “{token.name}” is revoked; it no longer works.", "success")
    return redirect(url_for("api.tokens"))
