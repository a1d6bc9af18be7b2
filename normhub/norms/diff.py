"""What changed between two versions of a norm: text and assumptions.

Pure functions over anything shaped like a NormVersion (``title``, ``summary``,
``body``, ``assumptions`` with ``key``, ``position``, ``statement``,
``explanation``), so they are tested without a database.

Text diffs come out as HTML with ``<ins>``/``<del>``: every piece of user text
goes through :func:`markupsafe.escape` before it is wrapped, so hostile input
stays inert, and closes the direction controls it opens, so an override in a
removed piece cannot turn the added text beside it around. Long texts are
compared line by line first and only the changed lines word by word, which
keeps a 100 000-character essay fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from markupsafe import Markup, escape

from normhub.text import with_direction_closed

# A word or punctuation mark with the spaces after it: whitespace as its own
# token would be the most common item by far, which makes matching slow.
_TOKEN_RE = re.compile(r"\w+\s*|[^\w\s]\s*|\s+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


_WRAPPERS = {"ins": Markup("<ins>{}</ins>"), "del": Markup("<del>{}</del>")}


def _shown(text: str) -> Markup:
    return escape(with_direction_closed(text))


def _wrap(tag: str, text: str) -> Markup:
    # format() escapes ``text``: user input never becomes markup.
    return _WRAPPERS[tag].format(with_direction_closed(text)) if text else Markup("")


# Below this share of common words a rewritten block reads better as
# "all old text removed, all new text added" than as interleaved fragments.
_MIN_WORD_SIMILARITY = 0.3


# SequenceMatcher is quadratic in the worst case, so an exact word-level
# comparison is only made for blocks up to this many token pairs (about two
# paragraphs of 500 words). Bigger changed blocks are split into sentences
# first; a block too big even for that is shown as removed and added whole.
_EXACT_PAIRS_MAX = 1_000_000
_SENTENCES_MAX = 20_000
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])(?=\s)")


def _matcher(old: list[str], new: list[str]) -> SequenceMatcher:
    # Skipping very common items (blank lines) keeps big inputs fast; small
    # ones get the exact comparison.
    exact = len(old) * len(new) <= _EXACT_PAIRS_MAX
    return SequenceMatcher(None, old, new, autojunk=not exact)


def _whole(old: str, new: str) -> Markup:
    return _wrap("del", old) + _wrap("ins", new)


def _split_trailing_space(removed: str, added: str) -> tuple[str, str, str]:
    """Move whitespace both sides end with out of the change: "<del>a</del><ins>b</ins> "."""
    old_core, new_core = removed.rstrip(), added.rstrip()
    old_tail, new_tail = removed[len(old_core) :], added[len(new_core) :]
    if old_tail and old_tail == new_tail:
        return old_core, new_core, new_tail
    return removed, added, ""


def _word_diff(old: str, new: str) -> Markup:
    old_tokens, new_tokens = _tokens(old), _tokens(new)
    if len(old_tokens) * len(new_tokens) > _EXACT_PAIRS_MAX:
        return _sentence_diff(old, new)
    # Compare words without their trailing spaces, so "base" at the end of a
    # text still matches "base " in the middle of the other.
    matcher = SequenceMatcher(
        None,
        [t.rstrip() or t for t in old_tokens],
        [t.rstrip() or t for t in new_tokens],
        autojunk=False,
    )
    if matcher.ratio() < _MIN_WORD_SIMILARITY:
        return _whole(old, new)
    segments: list[tuple[bool, str, str]] = []  # (changed, old text, new text)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        segments.append((op != "equal", "".join(old_tokens[i1:i2]), "".join(new_tokens[j1:j2])))
    # Neighbouring changed words form one edit: "<del>a b</del><ins>c d</ins>"
    # reads better than "<del>a </del><ins>c </ins><del>b</del><ins>d</ins>".
    merged: list[tuple[bool, str, str]] = []
    for changed, removed, added in segments:
        if changed and merged and merged[-1][0]:
            merged[-1] = (True, merged[-1][1] + removed, merged[-1][2] + added)
        else:
            merged.append((changed, removed, added))
    parts: list[Markup] = []
    for changed, removed, added in merged:
        if changed:
            removed, added, tail = _split_trailing_space(removed, added)
            parts.append(_whole(removed, added) + _shown(tail))
        else:
            # Equal words may differ in the spaces after them: show the new text.
            parts.append(_shown(added))
    return Markup("").join(parts)


def _sentence_diff(old: str, new: str) -> Markup:
    old_parts, new_parts = _SENTENCE_END_RE.split(old), _SENTENCE_END_RE.split(new)
    # Sentences rarely repeat, so matching them is cheap even for long texts.
    if max(len(old_parts), len(new_parts)) > _SENTENCES_MAX or (
        len(old_parts) == 1 and len(new_parts) == 1
    ):
        return _whole(old, new)
    matcher = SequenceMatcher(None, old_parts, new_parts, autojunk=False)
    parts: list[Markup] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(old_parts[i1:i2]), "".join(new_parts[j1:j2])
        if op == "equal":
            parts.append(_shown(added))
        elif op == "replace" and len(_tokens(removed)) * len(_tokens(added)) <= _EXACT_PAIRS_MAX:
            parts.append(_word_diff(removed, added))
        else:
            parts.append(_whole(removed, added))
    return Markup("").join(parts)


def inline_diff(old: str, new: str) -> Markup:
    """``new`` with deletions in ``<del>`` and insertions in ``<ins>``, HTML-escaped.

    Lines are matched first; a block of changed lines is then compared word by
    word, so a one-word edit in a long paragraph shows as that word.
    """
    old_lines = (old or "").splitlines(keepends=True)
    new_lines = (new or "").splitlines(keepends=True)
    matcher = _matcher(old_lines, new_lines)
    parts: list[Markup] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        removed = "".join(old_lines[i1:i2])
        added = "".join(new_lines[j1:j2])
        if op == "equal":
            parts.append(_shown(added))
        elif op == "replace":
            parts.append(_word_diff(removed, added))
        else:
            parts.append(_whole(removed, added))
    return Markup("").join(parts)


@dataclass(frozen=True)
class TextChange:
    """One changed text field: its name for people, and the marked-up diff."""

    label: str
    html: Markup


@dataclass(frozen=True)
class AssumptionChange:
    """How one assumption (identified by ``key``) differs between the versions.

    ``kind`` is "added", "removed" or "changed"; a changed assumption may be
    reworded, moved, or both.
    """

    kind: str
    key: int
    old: Any | None
    new: Any | None
    reworded: bool = False
    moved: bool = False
    statement_html: Markup | None = None
    explanation_html: Markup | None = None

    @property
    def old_position(self) -> int | None:
        return self.old.position if self.old is not None else None

    @property
    def new_position(self) -> int | None:
        return self.new.position if self.new is not None else None


@dataclass
class VersionDiff:
    old: Any
    new: Any
    text_changes: list[TextChange] = field(default_factory=list)
    assumption_changes: list[AssumptionChange] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.text_changes or self.assumption_changes)

    def changes_of(self, kind: str) -> list[AssumptionChange]:
        return [c for c in self.assumption_changes if c.kind == kind]

    @property
    def reworded(self) -> list[AssumptionChange]:
        return [c for c in self.assumption_changes if c.reworded]

    @property
    def moved(self) -> list[AssumptionChange]:
        return [c for c in self.assumption_changes if c.moved]


def _moved_keys(old_order: list[int], new_order: list[int]) -> set[int]:
    """Keys whose relative order changed.

    The longest run of keys kept in the same order counts as staying put;
    everything else moved. So removing assumption 1 does not make all the
    others "moved" just because their numbers went down.
    """
    common = set(old_order) & set(new_order)
    old_seq = [k for k in old_order if k in common]
    new_seq = [k for k in new_order if k in common]
    matcher = SequenceMatcher(None, old_seq, new_seq, autojunk=False)
    stayed: set[int] = set()
    for block in matcher.get_matching_blocks():
        stayed.update(old_seq[block.a : block.a + block.size])
    return common - stayed


def compare_assumptions(old_items, new_items) -> list[AssumptionChange]:
    """Changes from ``old_items`` to ``new_items``, in the new order, removals last."""
    old_items = sorted(old_items, key=lambda a: a.position)
    new_items = sorted(new_items, key=lambda a: a.position)
    old_by_key = {a.key: a for a in old_items}
    new_by_key = {a.key: a for a in new_items}
    moved = _moved_keys([a.key for a in old_items], [a.key for a in new_items])
    changes: list[AssumptionChange] = []
    for item in new_items:
        before = old_by_key.get(item.key)
        if before is None:
            changes.append(AssumptionChange("added", item.key, None, item))
            continue
        statement_changed = before.statement != item.statement
        explanation_changed = (before.explanation or "") != (item.explanation or "")
        reworded = statement_changed or explanation_changed
        if not reworded and item.key not in moved:
            continue
        changes.append(
            AssumptionChange(
                "changed",
                item.key,
                before,
                item,
                reworded=reworded,
                moved=item.key in moved,
                statement_html=inline_diff(before.statement, item.statement)
                if statement_changed
                else None,
                explanation_html=inline_diff(before.explanation or "", item.explanation or "")
                if explanation_changed
                else None,
            )
        )
    for item in old_items:
        if item.key not in new_by_key:
            changes.append(AssumptionChange("removed", item.key, item, None))
    return changes


TEXT_FIELDS = (("title", "Title"), ("summary", "Summary"), ("body", "Essay"))


def diff_versions(old, new) -> VersionDiff:
    result = VersionDiff(old=old, new=new)
    for attribute, label in TEXT_FIELDS:
        before, after = getattr(old, attribute) or "", getattr(new, attribute) or ""
        if before != after:
            result.text_changes.append(TextChange(label, inline_diff(before, after)))
    result.assumption_changes = compare_assumptions(old.assumptions, new.assumptions)
    return result
