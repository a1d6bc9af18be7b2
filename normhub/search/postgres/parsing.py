"""NormHub's query syntax read into a small tree, then written as a PostgreSQL ``tsquery``.

The syntax and its meaning are the Whoosh backend's (``normhub.search.query``
says which fields and values exist): words are ANDed, ``AND``/``OR``/``NOT``/
``ANDNOT`` and ``-word`` combine them, explicit operators bind tighter than
words side by side (``a b OR c`` is ``a AND (b OR c)``), ``NOT`` binds
tightest, ``"…"`` is a phrase, ``(…)`` a group, ``+word`` makes the other
plain words of its group only count for ranking, and ``field:`` applies to a
word, a phrase or a group.

User text never reaches PostgreSQL as tsquery syntax: words and phrases go as
bound parameters to ``plainto_tsquery``/``phraseto_tsquery`` (``fill_lexemes``),
whose output is already quoted, and filter values are quoted here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text as sql

from normhub.search.query import FilterValues

CONFIG = "english"
TITLE_WEIGHT = "A"
# Every document also holds its title's lexemes prefixed "t:" and those of its title,
# tags and summary prefixed "s:" (no positions): the candidate tiers Whoosh ranks from
# (``whoosh.scoring.TIERS``) are then plain terms the GIN index answers without reading
# a row, where a weight-restricted term ('meet':A) needs every match's row rechecked.
TITLE_TIER = "t:"
HEAD_TIER = "s:"
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT"}
_FIELDS = ("tag", "status", "author", "community", "kind", "title")
_PIECE = re.compile(r'\(|\)|"[^"]*"|[^\s()"]+')
_FIELD_PREFIX = re.compile(r"^([+-]?)(" + "|".join(_FIELDS) + r"):(.*)$", re.DOTALL)
# How Whoosh's analyzers split tags and names: NormHub filters match the same terms.
TAG_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
NAME_TOKEN = re.compile(r"\w+(?:\.?\w+)*")
# The quoted lexemes of a tsquery as PostgreSQL writes it.
_QUOTED = re.compile(r"'(?:[^'\\]|''|\\.)*'")
_TIER_PARTS = re.compile(r"'(?:[^'\\]|''|\\.)*'|<(?:-|\d+)>")
TAG_STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "for",
        "from",
        "have",
        "if",
        "in",
        "is",
        "it",
        "may",
        "not",
        "of",
        "on",
        "or",
        "tbd",
        "that",
        "the",
        "this",
        "to",
        "us",
        "we",
        "when",
        "will",
        "with",
        "yet",
        "you",
        "your",
    }
)


# PostgreSQL's parser drops whatever looks like an HTML tag, words and all
# ("<img onerror=alert('x')>"), where Whoosh indexes every word of the text. So
# texts are analysed HTML-escaped, documents and queries alike: no tags are left,
# entities are skipped, and snippets (``searching``) are cut from escaped text.
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&#34;"), ("''", "&#39;"))


def escaped(expression: str) -> str:
    """SQL for ``expression`` (text) HTML-escaped as ``markupsafe.escape`` does."""
    for character, entity in _ESCAPES:
        expression = f"replace({expression}, '{character}', '{entity}')"
    return expression


def analysed(expression: str) -> str:
    """SQL for ``expression`` as it is analysed: escaped, and with slashes, dots and at
    signs as spaces, so the parser reads no URL, host, file name or address (it keeps
    each whole as one term: "xss.example/a.css" would not be found by "css")."""
    return escaped(f"translate({expression}, '/.@', '   ')")


# --- the tree -----------------------------------------------------------------------


@dataclass
class Text:
    """Words (or a phrase) searched in the text fields; ``weights`` limits the fields."""

    words: str
    phrase: bool = False
    weights: str = ""  # "" means every field; "A" the title only
    tsquery: str = ""  # filled in by ``fill_lexemes``


@dataclass
class Value:
    """One filter term: ``tag:safety``, ``status:open``, ``author:ada``…"""

    lexeme: str


@dataclass
class And:
    parts: list = field(default_factory=list)


@dataclass
class Or:
    parts: list = field(default_factory=list)


@dataclass
class Not:
    part: object


@dataclass
class Maybe:
    """Only counts for ranking (a plain word beside a ``+word``)."""

    part: object


# --- reading the text -------------------------------------------------------------------


class _Reader:
    def __init__(self, text: str, values: FilterValues):
        self.pieces = _PIECE.findall(text)
        self.position = 0
        self.values = values

    def peek(self) -> str | None:
        return self.pieces[self.position] if self.position < len(self.pieces) else None

    def take(self) -> str | None:
        piece = self.peek()
        if piece is not None:
            self.position += 1
        return piece

    # group := chain+   (side by side: AND, or AND MAYBE when a "+" is among them)
    def group(self, scope: str | None, top: bool = False):
        items = []
        while (piece := self.peek()) is not None:
            if piece == ")":
                if not top:
                    break
                self.take()  # a stray closing parenthesis
                continue
            items.append(self.or_chain(scope))
        return _side_by_side(items)

    def or_chain(self, scope):
        parts = [self.and_chain(scope)]
        while self.peek() == "OR":
            self.take()
            if self._operand_follows():
                parts.append(self.and_chain(scope))
        return parts[0] if len(parts) == 1 else ("", _combined(Or, parts))

    def and_chain(self, scope):
        parts = [self.unary(scope)]
        while self.peek() in ("AND", "ANDNOT"):
            negate = self.take() == "ANDNOT"
            if self._operand_follows():
                sign, node = self.unary(scope)
                parts.append(("-" if negate else sign, node))
        return parts[0] if len(parts) == 1 else ("", _combined(And, parts))

    def unary(self, scope):
        piece = self.peek()
        if piece == "NOT":
            self.take()
            if not self._operand_follows():
                return "", None
            _, node = self.unary(scope)
            return "", Not(node) if node is not None else None
        if piece in _OPERATORS:  # an operator with nothing before it
            self.take()
            return "", None
        return self.unit(scope)

    def _operand_follows(self) -> bool:
        piece = self.peek()
        return piece is not None and piece != ")" and piece not in ("AND", "OR", "ANDNOT")

    def unit(self, scope):
        piece = self.take()
        sign = ""
        if piece == "(":
            node = self.group(scope)
            if self.peek() == ")":
                self.take()
            return sign, node
        match = _FIELD_PREFIX.match(piece)
        if match:
            sign, name, rest = match.groups()
            if not rest:  # "title:(…)" or 'author:"…"'
                following = self.peek()
                if following == "(":
                    self.take()
                    node = self.group(name)
                    if self.peek() == ")":
                        self.take()
                    return sign, node
                if following is not None and following.startswith('"'):
                    return sign, self.term(name, self.take())
                return sign, None
            return sign, self.term(name, rest)
        if piece[:1] in "+-" and len(piece) > 1:
            sign, piece = piece[0], piece[1:]
        return sign, self.term(scope, piece)

    def term(self, name: str | None, piece: str):
        phrase = piece.startswith('"')
        words = piece.strip('"') if phrase else piece
        if not words.strip():
            return None
        if name in (None, "title"):
            return Text(words, phrase, TITLE_WEIGHT if name == "title" else "")
        return self.value(name, words, phrase)

    def value(self, name: str, words: str, phrase: bool):
        values = self.values
        if name == "tag":
            if phrase:
                tokens = [values.tag_of_words(words.lower().split())]
            else:
                tokens = [t.lower() for t in TAG_TOKEN.findall(words)]
            found = [Value(f"tag:{t}") for t in tokens if t not in TAG_STOP_WORDS]
            return _all(found)
        if name == "author":
            return _all([Value(f"author:{t}") for t in NAME_TOKEN.findall(words.lower())])
        if name == "status":
            return Value(f"status:{values.status(words)}")
        if name == "community":
            return Value(f"community:{values.community_slug(words)}")
        return Value(f"kind:{values.kind(words)}")


def _combined(kind, items: list[tuple[str, object]]):
    """Operands of an explicit AND or OR: "-word" among them is an exclusion."""
    nodes = [Not(node) if sign == "-" else node for sign, node in items if node is not None]
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else kind(nodes)


def _all(nodes: list):
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else And(nodes)


def _side_by_side(items: list[tuple[str, object]]):
    required = any(sign == "+" for sign, node in items if node is not None)
    parts = []
    for sign, node in items:
        if node is None:
            continue
        if sign == "-":
            parts.append(Not(node))
        elif required and sign != "+":
            parts.append(Maybe(node))
        else:
            parts.append(node)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(parts)


def parse(text: str, values: FilterValues):
    """The query tree of ``text`` (None when it holds nothing to search for)."""
    return _Reader(text, values).group(None, top=True)


# --- words into lexemes ---------------------------------------------------------------


def texts_of(node) -> list[Text]:
    if isinstance(node, Text):
        return [node]
    if isinstance(node, And | Or):
        return [found for part in node.parts for found in texts_of(part)]
    if isinstance(node, Not | Maybe):
        return texts_of(node.part)
    return []


_LEXEMES = sql(
    f"SELECT CASE WHEN q.phrase THEN phraseto_tsquery(CAST(:config AS regconfig), "  # noqa: S608 (constants; the words are bound)
    f"{analysed('q.words')}) "
    f"ELSE plainto_tsquery(CAST(:config AS regconfig), {analysed('q.words')}) END::text "
    "FROM unnest(CAST(:words AS text[]), CAST(:phrases AS boolean[])) "
    "WITH ORDINALITY AS q(words, phrase, n) ORDER BY q.n"
)


def fill_lexemes(connection, node) -> None:
    """Each ``Text`` of the tree analysed by PostgreSQL as documents are (one round trip)."""
    texts = texts_of(node)
    if not texts:
        return
    rows = connection.execute(
        _LEXEMES,
        {
            "config": CONFIG,
            "words": [t.words for t in texts],
            "phrases": [t.phrase for t in texts],
        },
    ).scalars()
    for found, tsquery in zip(texts, rows, strict=True):
        found.tsquery = tsquery or ""


# --- the tree as tsquery text -------------------------------------------------------------


def quote(lexeme: str) -> str:
    """A lexeme as a quoted tsquery operand."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _weighted(tsquery: str, weights: str) -> str:
    if not weights:
        return tsquery
    return _QUOTED.sub(lambda m: f"{m.group(0)}:{weights}", tsquery)


def _tier_form(tsquery: str, prefix: str) -> str:
    """``tsquery`` on the tier's prefixed lexemes; they have no positions, so phrases are ANDs."""

    def replace(match: re.Match) -> str:
        found = match.group(0)
        if found.startswith("'"):
            lexeme = re.sub(r"\\(.)", r"\1", found[1:-1].replace("''", "'"))
            return quote(prefix + lexeme)
        return "&"

    return _TIER_PARTS.sub(replace, tsquery)


def matching(node, tier: str | None = None) -> str | None:
    """The tsquery text of what matches ``node``: "" for no condition, None for nothing.

    ``tier`` (``TITLE_TIER`` or ``HEAD_TIER``) limits words to those fields (Whoosh's
    candidate tiers): parts of an OR outside it drop out, an AND with such a part matches
    nothing there, and exclusions are left out, as ``whoosh.scoring.restrict_fields`` does.
    """
    if isinstance(node, Text):
        if not node.tsquery:
            return ""
        if node.weights or tier is None:  # title: words are in every tier
            return f"({_weighted(node.tsquery, node.weights)})"
        return f"({_tier_form(node.tsquery, tier)})"
    if isinstance(node, Value):
        return quote(node.lexeme)
    if isinstance(node, Maybe) or (isinstance(node, Not) and tier is not None):
        return ""
    if isinstance(node, Not):
        inner = matching(node.part)
        return f"!{inner}" if inner else ""
    if isinstance(node, And):
        parts = [matching(part, tier) for part in node.parts]
        return None if None in parts else _join(parts, " & ")
    if isinstance(node, Or):
        parts = [found for part in node.parts if (found := matching(part, tier)) is not None]
        return _join(parts, " | ") if parts else None
    return ""


def _join(parts: list[str], operator: str) -> str:
    parts = [part for part in parts if part]
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else "(" + operator.join(parts) + ")"


def ranking(node) -> str:
    """The tsquery text ranked by: every word and phrase the query wants, ORed."""
    found = [_weighted(t.tsquery, t.weights) for t in _positive_texts(node) if t.tsquery]
    return " | ".join(f"({part})" for part in found)


def _positive_texts(node) -> list[Text]:
    if isinstance(node, Text):
        return [node]
    if isinstance(node, And | Or):
        return [found for part in node.parts for found in _positive_texts(part)]
    if isinstance(node, Maybe):
        return _positive_texts(node.part)
    return []


def has_tag(node) -> bool:
    """True when the query asks for a tag (outside any exclusion)."""
    if isinstance(node, Value):
        return node.lexeme.startswith("tag:")
    if isinstance(node, And | Or):
        return any(has_tag(part) for part in node.parts)
    return False


def only_exclusions(node) -> bool:
    """True when the query only says what to leave out ("NOT spam"): everything else matches."""
    if isinstance(node, Not):
        return True
    if isinstance(node, And):
        return all(isinstance(part, Not | Maybe) for part in node.parts)
    return False
