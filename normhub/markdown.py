"""Markdown rendering for essays and comments, safe for untrusted input.

markdown-it-py's "commonmark" preset with ``html`` off escapes raw HTML, and
its link validator refuses ``javascript:``, ``vbscript:``, ``file:`` and
``data:`` URLs other than images. We add tables, strikethrough and footnotes,
and make every link ``rel="nofollow noopener"``.

Images from other sites are not loaded: each becomes a link that names the
site, which the reader may click. A remote image would tell its owner (the
author, say) every reader's address and reading time; digests would do the
same for each recipient who opens the email.

Rendering happens when a text is written, not when it is read (``normhub.cooked``
stores the result, "cooked", next to the Markdown). :func:`cook` gives HTML in which
every @handle is a placeholder; :func:`serve` turns the placeholders into mentions
when the page is shown, because whom a handle names (the member's name, whether
they are still a member) can change after the text was written. Everything else in
the HTML depends on the text alone: a link to a norm is an ordinary link, to the
address typed (a norm keeps its address when its title changes), and the norms a
norm builds on are listed by the page from the database, not from its Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from mdit_py_plugins.footnote import footnote_plugin

# Raise it whenever a change here alters the HTML of some text: stored HTML cooked
# by an older renderer is then rendered afresh on each read until
# ``flask markdown recook`` brings it up to date.
RENDERER_VERSION = 1


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
    )

    def render_link_open(self, tokens, idx, options, env):
        tokens[idx].attrSet("rel", "nofollow noopener")
        return self.renderToken(tokens, idx, options, env)

    def render_image(self, tokens, idx, options, env):
        token = tokens[idx]
        source = token.attrGet("src") or ""
        if loads_without_tracking(source):
            return self.image(tokens, idx, options, env)
        alt = self.renderInlineAsText(token.children or [], options, env)
        return remote_image_link(source, alt)

    def render_mention(self, tokens, idx, options, env):
        return MENTION_PLACEHOLDER.format(handle=tokens[idx].meta["handle"])

    md.inline.ruler.before("emphasis", "mention", _mention_rule)
    md.add_render_rule("link_open", render_link_open)
    md.add_render_rule("image", render_image)
    md.add_render_rule("mention", render_mention)
    return md


# A mention is "@" and a member's handle (accounts.models.new_handle), not inside a word
# or an address ("ann@example.org" mentions no one).
MENTION = re.compile(r"@([a-z0-9]{12})(?![A-Za-z0-9_])")

# Cooked HTML holds each @handle as this element. No text can forge it: the renderer
# escapes every "<" a writer types, so only the mention rule below writes one.
MENTION_PLACEHOLDER = '<span data-mention="{handle}">@{handle}</span>'
_PLACEHOLDER = re.compile(r'<span data-mention="([a-z0-9]{12})">@[a-z0-9]{12}</span>')


def _mention_rule(state, silent: bool) -> bool:
    """An @handle becomes a mention token (cooked as a placeholder, see :func:`serve`)."""
    if state.src[state.pos] != "@":
        return False
    if state.pos > 0 and _joins_word(state.src[state.pos - 1]):
        return False
    match = MENTION.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        token.meta = {"handle": match.group(1)}
    state.pos = match.end()
    return True


def mentioned_handles(text: str) -> set[str]:
    """The handles @-mentioned in Markdown ``text``, leaving out code and links' targets."""
    if "@" not in (text or ""):
        return set()  # most texts: no parse at all
    return {
        child.meta["handle"]
        for token in _renderer().parse(text or "")
        for child in token.children or ()
        if child.type == "mention"
    }


def _joins_word(character: str) -> bool:
    return character.isalnum() or character in "_@."


def loads_without_tracking(source: str) -> bool:
    """An image on this site, or inside the text itself (``data:``): nobody else learns of it."""
    if source.startswith("data:image/"):
        return True
    parts = urlsplit(source)
    return not parts.scheme and not parts.netloc and not source.startswith("//")


def remote_image_link(source: str, alt: str) -> str:
    host = urlsplit(source).hostname or "another site"
    label = f"Image from {host}" + (f": {alt}" if alt else "")
    return (
        f'<a class="remote-image" href="{escape(source)}" rel="nofollow noopener noreferrer"'
        f' title="Opens the image on {escape(host)}, which will see your address">'
        f"{escape(label)}</a>"
    )


def cook(text: str) -> str:
    """``text`` as HTML to store, with a placeholder for each @handle (see :func:`serve`)."""
    return _renderer().render(text or "")


def cooked_handles(cooked: str) -> set[str]:
    """The handles whose placeholders ``cooked`` holds: whom the page must look up."""
    if "data-mention" not in cooked:
        return set()
    return set(_PLACEHOLDER.findall(cooked))


def serve(cooked: str, mentions: Mapping[str, tuple[str, str]] | None = None) -> Markup:
    """HTML made by :func:`cook`, ready for a page. ``mentions`` maps the handles that may
    be shown as mentions to (name, link); any other @handle stays as typed, naming no one.

    ``cooked`` must come from :func:`cook` (as stored by ``normhub.cooked``): it is
    marked safe as it is.
    """
    if "data-mention" in cooked:
        known = mentions or {}

        def mention(match: re.Match) -> str:
            handle = match.group(1)
            if handle not in known:
                return f"@{handle}"
            name, href = known[handle]
            return f'<a class="mention" href="{escape(href)}">@{escape(name)}</a>'

        cooked = _PLACEHOLDER.sub(mention, cooked)
    # Safe to mark: the renderer escapes raw HTML and refuses unsafe link schemes.
    return Markup(cooked)  # noqa: S704


def render_markdown(text: str, mentions: Mapping[str, tuple[str, str]] | None = None) -> Markup:
    """``text`` as HTML at once (the writing preview): :func:`cook`, then :func:`serve`."""
    return serve(cook(text), mentions)


def plain_text(text: str) -> str:
    """Markdown source reduced to its words, for snippets, feeds and search."""
    tokens = _renderer().parse(text or "")
    words = []
    for token in tokens:
        if token.type == "inline" and token.children:
            words.extend(child.content for child in token.children if child.type == "text")
        elif token.type in ("code_block", "fence"):
            words.append(token.content)
    return " ".join(" ".join(words).split())
