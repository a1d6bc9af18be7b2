"""Markdown rendering for essays and comments, safe for untrusted input.

markdown-it-py's "commonmark" preset with ``html`` off escapes raw HTML, and
its link validator refuses ``javascript:``, ``vbscript:``, ``file:`` and
``data:`` URLs other than images. We add tables, strikethrough and footnotes,
and make every link ``rel="nofollow noopener"``.

Images from other sites are not loaded: each becomes a link that names the
site, which the reader may click. A remote image would tell its owner (the
author, say) every reader's address and reading time; digests would do the
same for each recipient who opens the email.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from mdit_py_plugins.footnote import footnote_plugin


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
        name, href = env["mentions"][tokens[idx].meta["handle"]]
        return f'<a class="mention" href="{escape(href)}">@{escape(name)}</a>'

    md.inline.ruler.before("emphasis", "mention", _mention_rule)
    md.add_render_rule("link_open", render_link_open)
    md.add_render_rule("image", render_image)
    md.add_render_rule("mention", render_mention)
    return md


# A mention is "@" and a member's handle (accounts.models.new_handle), not inside a word
# or an address ("ann@example.org" mentions no one).
MENTION = re.compile(r"@([a-z0-9]{12})(?![A-Za-z0-9_])")


def _mention_rule(state, silent: bool) -> bool:
    """An @handle that the renderer was given a name for becomes a mention token."""
    if state.src[state.pos] != "@":
        return False
    if state.pos > 0 and (state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] in "_@"):
        return False
    match = MENTION.match(state.src, state.pos)
    known = state.env.get("mentions") if isinstance(state.env, dict) else None
    if match is None or not known or match.group(1) not in known:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        token.meta = {"handle": match.group(1)}
    state.pos = match.end()
    return True


def mentioned_handles(text: str) -> set[str]:
    """The handles @-mentioned in Markdown ``text``, leaving out code and links' targets."""
    if "@" not in (text or ""):
        return set()  # most texts: no second parse of every comment on every norm page
    handles = set()
    for token in _renderer().parse(text or ""):
        for child in token.children or ():
            if child.type == "text":
                handles.update(
                    match.group(1)
                    for match in MENTION.finditer(child.content)
                    if match.start() == 0 or not _joins_word(child.content[match.start() - 1])
                )
    return handles


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


def render_markdown(text: str, mentions: Mapping[str, tuple[str, str]] | None = None) -> Markup:
    """``text`` as HTML; ``mentions`` maps the handles that may be shown as mentions to
    (name, link). Any other @handle stays as typed, naming no one."""
    env = {"mentions": mentions} if mentions else {}
    # Safe to mark: the renderer escapes raw HTML and refuses unsafe link schemes.
    return Markup(_renderer().render(text or "", env))  # noqa: S704


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
