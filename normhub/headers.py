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

from flask import Flask, after_this_request, current_app, g
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
    if "allowed_style_hashes" not in g:
        g.allowed_style_hashes = ()
        after_this_request(_admit_allowed_styles)
    g.allowed_style_hashes = tuple(sorted({*g.allowed_style_hashes, *cache[template_name]}))


def _admit_allowed_styles(response):
    response.headers["Content-Security-Policy"] = content_security_policy(g.allowed_style_hashes)
    return response


# A response may bring its own of these (the preview's styles, a reset page's "no-referrer");
# every other security header is always the one below, whatever a view set.
_OWN_ALLOWED = ("content-security-policy", "referrer-policy")


class SecurityHeaders:
    """WSGI middleware: the security headers on every response, as the response starts.

    Added here to the header list rather than through Werkzeug's ``Headers`` in an
    ``after_request`` hook, which validates each header and searches the list for
    it: a twentieth of an API exposure check's time. Every response passes through
    here, error pages and static files included.
    """

    def __init__(self, wsgi_app, *, hsts: bool):
        self.wsgi_app = wsgi_app
        self.hsts = hsts
        fixed = {"Content-Security-Policy": _PLAIN_POLICY, **SECURITY_HEADERS}
        self._fixed = list(fixed.items())
        self._replaced = {name.lower() for name in fixed} - set(_OWN_ALLOWED)
        self._replaced.add("strict-transport-security")

    def __call__(self, environ, start_response):
        secure = self.hsts and environ.get("wsgi.url_scheme") == "https"

        def start_with_headers(status, headers, exc_info=None):
            return start_response(status, self._secured(headers, secure), exc_info)

        return self.wsgi_app(environ, start_with_headers)

    def _secured(self, headers: list, secure: bool) -> list:
        kept = [(name, value) for name, value in headers if name.lower() not in self._replaced]
        own = {name.lower() for name, _ in kept if name.lower() in _OWN_ALLOWED}
        kept += [(name, value) for name, value in self._fixed if name.lower() not in own]
        if secure:
            kept.append(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
        return kept


def init_app(app: Flask) -> None:
    # HSTS only in production, and only on https, so a development server on plain
    # http never pins a browser to https.
    app.wsgi_app = SecurityHeaders(app.wsgi_app, hsts=app.config["ENV_NAME"] == "production")
    hops = app.config["PROXY_HOPS"]
    if hops:
        # Outside the headers: https behind the proxy is known once ProxyFix has run.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
