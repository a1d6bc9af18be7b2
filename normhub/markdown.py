"""Markdown rendering for essays and comments, safe for untrusted input.

markdown-it-py's "commonmark" preset with ``html`` off escapes raw HTML, and
its link validator refuses ``javascript:``, ``vbscript:``, ``file:`` and
``data:`` URLs other than images. We add tables, strikethrough and footnotes,
and make every link ``rel="nofollow noopener"``.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup
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

    md.add_render_rule("link_open", render_link_open)
    return md


def render_markdown(text: str) -> Markup:
    # Safe to mark: the renderer escapes raw HTML and refuses unsafe link schemes.
    return Markup(_renderer().render(text or ""))  # noqa: S704


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
