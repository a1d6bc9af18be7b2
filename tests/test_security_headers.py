"""Security headers on every response, HSTS only in production over https, the reverse
proxy's forwarded headers trusted only when configured, and templates that need no
inline script or style."""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import re
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree as ET

import pytest
from flask import request
from sqlalchemy import select

from normhub.accounts import reset
from normhub.accounts.verification import confirmation_token
from normhub.communities.invites import create_invite
from normhub.config import PROJECT_ROOT, ConfigurationError, load_config
from normhub.digest.preferences import make_unsubscribe_token
from normhub.discussion.services import post_comment
from normhub.exposure.check import check_exposure, record_check
from normhub.exposure.models import ExposureCheck
from normhub.headers import style_attribute_hashes
from normhub.norms.services import revise_norm
from normhub.notifications.emails import unsubscribe_token as notification_unsubscribe_token
from normhub.reviews.schedule import open_review
from tests.conftest import login
from tests.route_helpers import every_route, route_url

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
# Pages that show an email's HTML admit exactly that email's inline styles.
EMAIL_PREVIEWS = {"digest.preview", "digest.steward_preview"}
EMAIL_BODY = PROJECT_ROOT / "templates" / "email" / "digest" / "_body.html"


# A page whose address carries a secret sends no referrer at all.
NO_REFERRER = {"password_reset.reset_password"}


def assert_security_headers(
    response, where: str, *, hsts: bool = False, csp: str = CSP, endpoint: str = ""
):
    headers = response.headers
    assert headers.get("Content-Security-Policy") == csp, where
    expected = dict(FIXED_HEADERS)
    if endpoint in NO_REFERRER:
        expected["Referrer-Policy"] = "no-referrer"
    for name, value in expected.items():
        assert headers.get(name) == value, f"{where}: {name}"
    if hsts:
        assert headers.get("Strict-Transport-Security") == HSTS, where
    else:
        assert "Strict-Transport-Security" not in headers, where


def style_hashes_of(path: Path) -> list[str]:
    """Worked out here, independently of normhub.headers: sha256 of each style value."""
    values = re.findall(r'style="([^"]*)"', path.read_text())
    assert values, "the digest email has inline styles; this test expects some"
    digests = {hashlib.sha256(html_lib.unescape(value).encode()).digest() for value in values}
    return sorted("'sha256-" + base64.b64encode(d).decode() + "'" for d in digests)


def preview_csp() -> str:
    styles = " ".join(["'self'", "'unsafe-hashes'", *style_hashes_of(EMAIL_BODY)])
    return CSP.replace("style-src 'self'", f"style-src {styles}")


@pytest.fixture
def world(app, session, factory):
    """One of everything a route's parameters can name, the steward owning most of it."""
    steward = factory.user("Stella Steward")
    community = factory.community(steward)
    member = factory.member(community, name="Max Member")
    norm = factory.norm(community, steward, title="Say where a figure comes from")
    revise_norm(
        session,
        norm,
        steward,
        factory.draft(title="Say where a figure comes from, always"),
        is_material=True,
        change_summary="Always.",
    )
    comment = post_comment(session, norm, steward, "Does this cover charts?")
    invite = create_invite(session, community, steward)
    record_check(session, steward, member, norm, check_exposure(session, norm, member))
    review = open_review(session, norm)
    session.commit()
    check_id = session.scalar(
        select(ExposureCheck.id).where(ExposureCheck.checker_id == steward.id)
    )
    values = {
        "slug": community.slug,
        "community_slug": community.slug,
        "norm_ref": norm.slug,
        "comment_id": comment.id,
        "user_id": member.id,
        "handle": member.handle,
        "part": "reminders",  # a list a member's record opens
        "member_ref": member.id,
        "number": 1,
        "filename": "style.css",
        "check_id": check_id,
        "review_id": review.id,
    }
    by_endpoint = {
        "communities.invite": {"token": invite.token},
        "password_reset.reset_password": {"token": reset.make_token(app.secret_key, member)},
        "accounts.confirm_email": {"token": confirmation_token(member, member.email)},
        "digest.unsubscribe": {
            "token": make_unsubscribe_token(app.config["SECRET_KEY"], member.id, [community.id])
        },
        "notifications.unsubscribe": {"token": notification_unsubscribe_token(member.id, "check")},
    }
    return SimpleNamespace(
        steward=steward, member=member, slug=community.slug, values=values, by_endpoint=by_endpoint
    )


def get_urls(app, values, by_endpoint) -> list[tuple[str, str]]:
    """(endpoint, URL) for every route that answers GET, its parameters filled in."""
    return sorted(
        (route.endpoint, route_url(app, route, {**values, **by_endpoint.get(route.endpoint, {})}))
        for route in every_route(app, {"GET"})
    )


def test_every_get_route_carries_the_headers_logged_out_and_in(app, client, world):
    urls = get_urls(app, world.values, world.by_endpoint)
    assert len(urls) >= 30  # every GET route of the app, not a handful
    for signed_in in (False, True):
        if signed_in:
            login(client, world.steward)
        statuses = {}
        for endpoint, url in urls:
            response = client.get(url)
            statuses[endpoint] = response.status_code
            csp = (
                preview_csp() if endpoint in EMAIL_PREVIEWS and response.status_code == 200 else CSP
            )
            assert_security_headers(
                response, f"{url} (signed in: {signed_in})", csp=csp, endpoint=endpoint
            )
        assert all(status < 500 for status in statuses.values()), statuses
        if signed_in:
            # Signed in as the steward, every page itself answered (the login page
            # sends a signed-in visitor on; a comment's lasting address sends everyone
            # to the page showing it; the first page of comments is the norm page).
            others = {e: s for e, s in statuses.items() if s != 200}
            assert others == {
                "accounts.login": 302,
                "discussion.comment": 302,
                "discussion.comments": 302,
            }, others
        else:
            assert statuses["forum.index"] == 200 and statuses["accounts.settings"] == 302


def test_error_pages_api_errors_static_files_and_the_feed_carry_the_headers(app, client, world):
    slug = world.slug

    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and b"There is nothing here" in missing.data
    assert_security_headers(missing, "404 page")

    not_allowed = client.post(f"/c/{slug}/feed.atom")
    assert (
        not_allowed.status_code == 405 and b"That action is not allowed here." in not_allowed.data
    )
    assert_security_headers(not_allowed, "405 page")
    assert set(not_allowed.headers["Allow"].split(", ")) >= {"GET", "HEAD"}  # RFC 9110

    api_refused = client.get("/api/v1/openapi.json", headers={"Authorization": "Bearer nope"})
    assert api_refused.status_code == 401 and api_refused.json["error"]["status"] == 401
    assert_security_headers(api_refused, "API 401")

    login(client, world.steward)
    api_missing = client.get(f"/api/v1/communities/{slug}/norms/no-such-norm/coverage")
    assert api_missing.status_code == 404 and api_missing.json["error"]["status"] == 404
    assert_security_headers(api_missing, "API 404")

    stylesheet = client.get("/static/style.css")
    assert stylesheet.status_code == 200 and b".bar rect" in stylesheet.data
    assert_security_headers(stylesheet, "static file")
    stylesheet.close()

    feed = client.get(f"/c/{slug}/feed.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    assert_security_headers(feed, "Atom feed")


def test_an_unexpected_error_page_carries_the_headers(app, client):
    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    response = client.get("/broken-for-test")
    assert response.status_code == 500 and b"Something went wrong on our side" in response.data
    assert_security_headers(response, "500 page")


def test_the_digest_preview_admits_exactly_the_email_styles(client, world):
    login(client, world.member)  # the steward's norm is news to the member
    preview = client.get("/settings/digest/preview")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'class="digest"' in page
    csp = preview.headers["Content-Security-Policy"]
    assert csp == preview_csp()
    assert "unsafe-inline" not in csp and "script-src 'self';" in csp
    # Every style attribute the page holds is one the policy names.
    allowed = set(re.findall(r"'(sha256-[^']+)'", csp))
    shown = re.findall(r'style="([^"]*)"', page)
    assert len(shown) >= 5
    for value in shown:
        digest = hashlib.sha256(html_lib.unescape(value).encode()).digest()
        assert "sha256-" + base64.b64encode(digest).decode() in allowed, value
    # Any other page of the same session goes back to the plain policy.
    assert client.get("/settings").headers["Content-Security-Policy"] == CSP


def test_style_hashes_cover_both_quotings_and_refuse_template_data():
    source = """<p style="color: #57606a;">a</p><hr STYLE='margin: 0'><i style="a &amp; b">"""
    assert style_attribute_hashes(source) == tuple(
        sorted(
            "sha256-" + base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
            for value in ("color: #57606a;", "margin: 0", "a & b")
        )
    )
    with pytest.raises(ValueError, match="built from template data"):
        style_attribute_hashes('<span style="width: {{ pct }}%">')


@pytest.mark.parametrize("app_overrides", [{"ENV_NAME": "production"}])
def test_hsts_in_production_only_over_https(client):
    assert_security_headers(client.get("/"), "production over http")
    https = client.get("/", base_url="https://normhub.test")
    assert https.status_code == 200
    assert_security_headers(https, "production over https", hsts=True)
    # Without a trusted proxy a forwarded scheme is anyone's claim: no HSTS.
    forwarded = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert_security_headers(forwarded, "production, untrusted X-Forwarded-Proto")


def test_no_hsts_in_development_even_over_https(app, client):
    assert app.config["ENV_NAME"] == "development"
    assert_security_headers(client.get("/", base_url="https://normhub.test"), "development")


def feed_self_link(response) -> str:
    root = ET.fromstring(response.data)  # noqa: S314 (the document is our own output)
    return root.find("{http://www.w3.org/2005/Atom}link[@rel='self']").get("href")


def remote_view():
    return {"remote_addr": request.remote_addr, "secure": request.is_secure, "host": request.host}


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "normhub.example.org",
    "X-Forwarded-Port": "443",
}


@pytest.mark.parametrize(
    "app_overrides", [{"ENV_NAME": "production", "PROXY_HOPS": 1, "SERVER_NAME": None}]
)
def test_behind_one_proxy_its_forwarded_headers_are_trusted(app, client, world):
    slug = world.slug
    app.add_url_rule("/remote-for-test", "remote_for_test", remote_view)
    seen = client.get("/remote-for-test", headers=FORWARDED).json
    assert seen == {"remote_addr": "203.0.113.7", "secure": True, "host": "normhub.example.org"}

    feed = client.get(f"/c/{slug}/feed.atom", headers=FORWARDED)
    # Links come from NORMHUB_BASE_URL, whatever host the request names.
    assert feed_self_link(feed) == f"{app.config['BASE_URL']}/c/{slug}/feed.atom"
    assert_security_headers(feed, "behind an https proxy", hsts=True)

    # The proxy speaking plain http to the world: no HSTS.
    plain = client.get("/", headers={**FORWARDED, "X-Forwarded-Proto": "http"})
    assert_security_headers(plain, "behind an http proxy")


@pytest.mark.parametrize(
    "app_overrides", [{"ENV_NAME": "production", "PROXY_HOPS": 0, "SERVER_NAME": None}]
)
def test_without_a_proxy_forwarded_headers_are_ignored(app, client, world):
    slug = world.slug
    app.add_url_rule("/remote-for-test", "remote_for_test", remote_view)
    seen = client.get("/remote-for-test", headers=FORWARDED).json
    assert seen == {"remote_addr": "127.0.0.1", "secure": False, "host": "localhost"}

    feed = client.get(f"/c/{slug}/feed.atom", headers=FORWARDED)
    assert feed_self_link(feed) == f"{app.config['BASE_URL']}/c/{slug}/feed.atom"
    assert_security_headers(feed, "forwarded headers, no proxy configured")


def test_proxy_hops_comes_from_the_environment(monkeypatch, tmp_path):
    assert load_config(str(tmp_path))["PROXY_HOPS"] == 0
    monkeypatch.setenv("NORMHUB_PROXY_HOPS", "1")
    assert load_config(str(tmp_path))["PROXY_HOPS"] == 1
    monkeypatch.setenv("NORMHUB_PROXY_HOPS", "-1")
    with pytest.raises(ConfigurationError, match="NORMHUB_PROXY_HOPS must be 0 or more"):
        load_config(str(tmp_path))
    monkeypatch.setenv("NORMHUB_PROXY_HOPS", "one")
    with pytest.raises(ConfigurationError, match="must be a whole number"):
        load_config(str(tmp_path))


INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"\sstyle\s*=|<style\b", re.I)
JAVASCRIPT_URL = re.compile(r"javascript:", re.I)


def template_problems(text: str) -> list[str]:
    problems = []
    for attributes, body in INLINE_SCRIPT.findall(text):
        if body.strip() or "src=" not in attributes:
            problems.append("inline <script>")
    if EVENT_HANDLER.search(text):
        problems.append("on…= event handler")
    if STYLE.search(text):
        problems.append("style attribute or <style> block")
    if JAVASCRIPT_URL.search(text):
        problems.append("javascript: URL")
    return problems


def test_the_checker_finds_each_kind_of_inline_code():
    assert template_problems('<script src="/static/a.js" defer></script>') == []
    assert template_problems("<script>alert(1)</script>") == ["inline <script>"]
    assert template_problems('<button type="submit" onclick="go()">') == ["on…= event handler"]
    assert template_problems('<span style="width: 3%">') == ["style attribute or <style> block"]
    assert template_problems("<style>p{}</style>") == ["style attribute or <style> block"]
    assert template_problems('<a href="javascript:go()">') == ["javascript: URL"]
    assert template_problems('<p data-on="x">Turn it on="now"</p>') == []


def test_no_template_holds_inline_script_handlers_or_styles():
    # Email HTML is not a page; the one page that shows it (the digest preview)
    # admits exactly its styles, tested above.
    root = PROJECT_ROOT / "templates"
    pages = [p for p in root.rglob("*.html") if "email" not in p.relative_to(root).parts]
    assert len(pages) >= 40
    found = {
        str(p.relative_to(root)): problems
        for p in pages
        if (problems := template_problems(p.read_text()))
    }
    assert found == {}
