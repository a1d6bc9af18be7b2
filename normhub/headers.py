"""Security headers on every response, and trust in the reverse proxy's forwarded headers.

Every response (pages, API answers, feeds, static files, error pages) says what a browser
may do with it: scripts, styles and images only from this site and never inline, no
framing, no sniffing, a referrer that leaves out paths on other sites, no powerful
browser features, and a browsing context of its own. HSTS goes out only in production
and only on https, so a development server on plain http never pins a browser to https.

Behind a reverse proxy (``NORMHUB_PROXY_HOPS``, the number of proxies in front of the
app), ``X-Forwarded-For/-Proto/-Host/-Port`` from that many hops are trusted, so
``request.is_secure`` and external URLs match what the visitor used. With no proxy
(0, the default) those headers are ignored: anyone could send them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

from flask import Flask, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # browsing-topics replaces FLoC's interest-cohort, which browsers now call unknown.
    "Permissions-Policy": (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
}

STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

_STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def content_security_policy(style_hashes: tuple[str, ...] = ()) -> str:
    directives = dict(CONTENT_SECURITY_POLICY)
    if style_hashes:
        hashes = " ".join(f"'{digest}'" for digest in style_hashes)
        directives["style-src"] += f" 'unsafe-hashes' {hashes}"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


_PLAIN_POLICY = content_security_policy()  # every page but the email previews


def style_attribute_hashes(source: str) -> tuple[str, ...]:
    """The CSP hashes of the fixed ``style="…"`` attributes in a template's source."""
    hashes = []
    for double_quoted, single_quoted in _STYLE_ATTRIBUTE.findall(source):
        value = double_quoted or single_quoted
        if "{" in value:
            raise ValueError(f"style attribute built from template data: {value!r}")
        digest = hashlib.sha256(html.unescape(value).encode()).digest()
        hashes.append("sha256-" + base64.b64encode(digest).decode())
    return tuple(sorted(set(hashes)))


def allow_style_attributes_of(template_name: str) -> None:
    """Let this response's page show the inline styles of one template, exactly those.

    Only for email HTML shown inside a page (the digest preview): email clients drop
    stylesheets, so an email carries its styles inline, and the preview shows it as
    sent. The styles are fixed text of the template, never user data; scripts stay
    locked whatever the page holds.
    """
    cache = current_app.extensions.setdefault("normhub.style_hashes", {})
    if template_name not in cache:
        source, _, _ = current_app.jinja_env.loader.get_source(current_app.jinja_env, template_name)
        cache[template_name] = style_attribute_hashes(source)
    g.allowed_style_hashes = tuple(
        sorted({*g.get("allowed_style_hashes", ()), *cache[template_name]})
    )


def add_security_headers(response):
    view_referrer_policy = response.headers.get("Referrer-Policy")
    style_hashes = g.get("allowed_style_hashes", ())
    response.headers["Content-Security-Policy"] = (
        content_security_policy(style_hashes) if style_hashes else _PLAIN_POLICY
    )
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if view_referrer_policy is not None:
        # A page whose address holds a secret (a reset link) sends no referrer at all.
        response.headers["Referrer-Policy"] = view_referrer_policy
    if current_app.config["ENV_NAME"] == "production" and request.is_secure:
        response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return response


def init_app(app: Flask) -> None:
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.after_request(add_security_headers)
