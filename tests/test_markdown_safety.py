"""Hostile input never comes out as live HTML on norm, version and diff pages."""

import re

import pytest

from normhub.markdown import render_markdown
from normhub.norms.services import AssumptionInput, revise_norm

HOSTILE_MARKDOWN = """\
<script>alert("xss-raw")</script>

<img src=x onerror="alert('xss-img')">

<div onclick="alert('xss-div')">block html</div>

[click](javascript:alert('xss-js'))
[mixed case](JaVaScRiPt:alert('xss-js2'))
[vb](vbscript:msgbox('xss-vb'))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
<javascript:alert('xss-autolink')>
![pic](javascript:alert('xss-imgsrc'))
"""

HOSTILE_TEXT = "<script>alert('xss-plain')</script><img src=x onerror=alert('xss-plain-img')>"


def assert_inert(html: str) -> None:
    """No hostile payload survives as markup."""
    assert "<script>alert" not in html
    assert not re.search(r"<img[^>]*onerror", html, re.I)
    assert not re.search(r"<div[^>]*onclick", html, re.I)
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):""", html, re.I)
    assert "<b>bold title</b>" not in html


@pytest.fixture
def hostile_norm(factory, session):
    community = factory.community()
    norm = factory.norm(
        community,
        title="<b>bold title</b> and more",
        summary=HOSTILE_TEXT,
        body=HOSTILE_MARKDOWN,
        assumptions=[
            AssumptionInput(HOSTILE_TEXT, HOSTILE_MARKDOWN),
            AssumptionInput("A plain assumption."),
        ],
    )
    first = norm.current_version.assumptions[0]
    revise_norm(
        session,
        norm,
        norm.author,
        factory.draft(
            title="<b>bold title</b> revised",
            summary=HOSTILE_TEXT + " changed",
            body=HOSTILE_MARKDOWN + "\n<script>alert('xss-added')</script>\n",
            assumptions=[
                AssumptionInput(HOSTILE_TEXT + " reworded", HOSTILE_MARKDOWN + " more", first.key),
                AssumptionInput("<svg onload=alert('xss-new')>"),
            ],
        ),
        "<script>alert('xss-change')</script>",
        True,
    )
    session.commit()
    return norm


def test_norm_page_escapes_everything(hostile_norm, client):
    html = client.get(f"/c/{hostile_norm.community.slug}/norms/{hostile_norm.slug}").get_data(
        as_text=True
    )
    assert_inert(html)
    assert "&lt;b&gt;bold title&lt;/b&gt; revised" in html
    assert "&lt;script&gt;alert(" in html
    assert "<svg onload" not in html


@pytest.mark.parametrize("number", [1, 2])
def test_version_pages_escape_everything(hostile_norm, client, number):
    response = client.get(f"/c/{hostile_norm.community.slug}/norms/{hostile_norm.slug}/v/{number}")
    assert response.status_code == 200
    assert_inert(response.get_data(as_text=True))


def test_diff_page_escapes_everything(hostile_norm, client):
    base = f"/c/{hostile_norm.community.slug}/norms/{hostile_norm.slug}"
    for query in ("", "?from=2&to=1"):
        html = client.get(base + "/diff" + query).get_data(as_text=True)
        assert_inert(html)
        assert "<svg onload" not in html
        assert "&lt;script&gt;alert(&#39;xss-" in html
    # The versions list shows the change summary as text.
    assert_inert(client.get(base + "/versions").get_data(as_text=True))


def test_render_markdown_refuses_unsafe_links_and_html():
    html = str(render_markdown(HOSTILE_MARKDOWN))
    assert_inert(html)
    assert "&lt;script&gt;" in html


def test_tables_and_footnotes_render(factory, client):
    community = factory.community()
    body = (
        "Counting matters.[^why]\n\n"
        "| Figure | Base |\n|---|---|\n| 40% | 1,000 members |\n\n"
        "[^why]: Because a share means nothing without its base.\n"
    )
    norm = factory.norm(community, body=body)
    html = client.get(f"/c/{community.slug}/norms/{norm.slug}").get_data(as_text=True)
    essay = html[html.index('id="essay"') : html.index('id="essay-end"')]
    assert "<table>" in essay and "<th>Figure</th>" in essay and "<td>1,000 members</td>" in essay
    assert 'class="footnote-ref"' in essay
    assert "Because a share means nothing without its base." in essay
    assert 'rel="nofollow noopener"' in str(render_markdown("[a](https://example.org)"))
