"""Writing documents into ``search_documents`` and ``search_words``, and rebuilding them.

Every write takes the search advisory lock *shared* (writers never wait for
each other) before it reads the documents it writes; a rebuild batch takes it
*exclusive* before reading its rows. So a batch never reads a norm a writer
has changed but not yet committed and then overwrites that writer's newer
document: it waits for the writer's commit, and a writer that comes later
waits for the batch and writes after it. Nothing written while a rebuild
runs is lost.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from normhub.discussion.models import Comment
from normhub.norms.models import Norm
from normhub.search.documents import DocumentChanges, PendingIds, collect_documents
from normhub.search.postgres.parsing import (
    CONFIG,
    HEAD_TIER,
    NAME_TOKEN,
    TAG_STOP_WORDS,
    TAG_TOKEN,
    TITLE_TIER,
    analysed,
)

logger = logging.getLogger("normhub.search")

# pg_advisory_xact_lock key of the search documents (any fixed number unique to them).
LOCK_KEY = 7_204_117_455
SPELL_WORD = re.compile(r"[^\W\d_]{3,}")
MAX_WORD_LENGTH = 80

_COLUMNS = (
    "id text, kind text, norm_id int, comment_id int, community_id int, community text, "
    "status text, tags text, author text, title text, summary text, body text, "
    "assumptions text, norm_title text, norm_slug text, created timestamp, updated timestamp, "
    "filters text[]"
)
# Each text as it is analysed (see ``parsing.analysed``).
_TITLE = analysed("coalesce(d.title, '')")
_TAGS = "replace(coalesce(d.tags, ''), ',', ' ')"
_SUMMARY = analysed("coalesce(d.summary, '')")
_ASSUMPTIONS = analysed("coalesce(d.assumptions, '')")
_BODY = analysed("coalesce(d.body, '')")
_UPSERT = sql(
    f"""
    INSERT INTO search_documents AS s (id, kind, norm_id, comment_id, community_id, community,
        status, tags, author, title, summary, body, assumptions, norm_title, norm_slug,
        created, updated, seq, words)
    SELECT d.id, d.kind, d.norm_id, d.comment_id, d.community_id, d.community, d.status,
        coalesce(d.tags, ''), d.author, d.title, d.summary, d.body, d.assumptions,
        d.norm_title, d.norm_slug, d.created, d.updated, nextval('search_documents_seq'),
        setweight(to_tsvector('{CONFIG}', {_TITLE}), 'A')
        || setweight(to_tsvector('{CONFIG}', {_TAGS} || ' ' || {_SUMMARY}), 'B')
        || setweight(to_tsvector('{CONFIG}', {_ASSUMPTIONS}), 'C')
        || setweight(to_tsvector('{CONFIG}', {_BODY}), 'D')
        || array_to_tsvector(d.filters)
        || array_to_tsvector(array(SELECT '{TITLE_TIER}' || lexeme FROM unnest(tsvector_to_array(
            to_tsvector('{CONFIG}', {_TITLE}))) AS lexeme))
        || array_to_tsvector(array(SELECT '{HEAD_TIER}' || lexeme FROM unnest(tsvector_to_array(
            to_tsvector('{CONFIG}', {_TITLE} || ' ' || {_TAGS} || ' ' || {_SUMMARY}))) AS lexeme))
    FROM jsonb_to_recordset(CAST(:documents AS jsonb)) AS d({_COLUMNS})
    ORDER BY d.id
    ON CONFLICT (id) DO UPDATE SET
        kind = excluded.kind, norm_id = excluded.norm_id, comment_id = excluded.comment_id,
        community_id = excluded.community_id, community = excluded.community,
        status = excluded.status, tags = excluded.tags, author = excluded.author,
        title = excluded.title, summary = excluded.summary, body = excluded.body,
        assumptions = excluded.assumptions, norm_title = excluded.norm_title,
        norm_slug = excluded.norm_slug, created = excluded.created,
        updated = excluded.updated, seq = excluded.seq, words = excluded.words
    """  # noqa: S608 (CONFIG and the columns are constants)
)
_REMOVE = sql(
    "DELETE FROM search_documents WHERE id = ANY(CAST(:ids AS text[])) "
    "OR (kind = 'comment' AND norm_id = ANY(CAST(:norm_ids AS int[])))"
)
_ADD_WORDS = sql(
    "INSERT INTO search_words (word, community_id) "
    "SELECT w.word, w.community_id FROM unnest(CAST(:words AS text[]), CAST(:cids AS int[])) "
    "AS w(word, community_id) ORDER BY 1, 2 ON CONFLICT DO NOTHING"
)


def lock_shared(connection: Connection) -> None:
    connection.execute(sql("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": LOCK_KEY})


def lock_exclusive(connection: Connection) -> None:
    connection.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


# --- documents into rows ---------------------------------------------------------------


def filter_terms(document: dict) -> list[str]:
    """The unweighted terms typed filters match: ``tag:…``, ``status:…``, ``author:…``…"""
    terms = {f"kind:{document.get('kind', '')}"}
    for tag in (document.get("tag") or "").split(","):
        for token in TAG_TOKEN.findall(tag.lower()):
            if token not in TAG_STOP_WORDS:
                terms.add(f"tag:{token}")
    if document.get("status"):
        terms.add(f"status:{document['status']}")
    if document.get("community"):
        terms.add(f"community:{document['community'].lower()}")
    for token in NAME_TOKEN.findall((document.get("author") or "").lower()):
        terms.add(f"author:{token}")
    return sorted(terms)


def _number(value) -> int | None:
    return int(value) if value not in (None, "") else None


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


def row_of(document: dict) -> dict:
    return {
        "id": document["id"],
        "kind": document.get("kind", ""),
        "norm_id": _number(document.get("norm_id")),
        "comment_id": _number(document.get("comment_id")),
        "community_id": _number(document.get("community_id")),
        "community": document.get("community"),
        "status": document.get("status"),
        "tags": document.get("tag") or "",
        "author": document.get("author"),
        "title": document.get("title"),
        "summary": document.get("summary"),
        "body": document.get("body"),
        "assumptions": document.get("assumptions"),
        "norm_title": document.get("norm_title"),
        "norm_slug": document.get("norm_slug"),
        "created": _when(document.get("created")),
        "updated": _when(document.get("updated")),
        "filters": filter_terms(document),
    }


def spelling_words(document: dict) -> set[str]:
    """The words "did you mean" may offer from a norm (see ``documents.spelling_text``)."""
    if document.get("kind") != "norm":
        return set()
    text = document.get("spell")
    if text is None:
        parts = (document.get(name) for name in ("title", "summary", "assumptions"))
        text = "\n".join(part for part in parts if part)
    return {word.lower() for word in SPELL_WORD.findall(text) if len(word) <= MAX_WORD_LENGTH}


# --- writing ----------------------------------------------------------------------------


def write(
    connection: Connection, documents: Iterable[dict] = (), removed: Iterable[str] = ()
) -> None:
    """Replace ``documents`` and remove ``removed`` (a norm's comments with it), in order."""
    documents, removed = list(documents), list(removed)
    if removed:
        norm_ids = [int(r.partition(":")[2]) for r in removed if r.startswith("norm:")]
        connection.execute(_REMOVE, {"ids": removed, "norm_ids": norm_ids})
    if not documents:
        return
    connection.execute(_UPSERT, {"documents": json.dumps([row_of(d) for d in documents])})
    words: set[tuple[str, int]] = set()
    for document in documents:
        community_id = _number(document.get("community_id"))
        if community_id is not None:
            words |= {(word, community_id) for word in spelling_words(document)}
    if words:
        ordered = sorted(words)
        connection.execute(
            _ADD_WORDS, {"words": [w for w, _ in ordered], "cids": [c for _, c in ordered]}
        )


def write_pending(connection: Connection, pending: PendingIds) -> int:
    """Bring the documents of ``pending`` in line with what ``connection`` sees."""
    lock_shared(connection)
    return _collect_and_write(connection, pending)


def _collect_and_write(connection: Connection, pending: PendingIds) -> int:
    reader = Session(bind=connection)
    try:
        changes: DocumentChanges = collect_documents(reader, pending)
    finally:
        reader.close()
    write(connection, changes.documents, changes.removed)
    return len(changes.documents)


# --- rebuilding ---------------------------------------------------------------------------


def rebuild(engine, batch_size: int, progress: Callable[[int], None] | None) -> int:
    """Rewrite every document in place, batch by batch, then drop those not rewritten.

    Searches see the old documents until each is replaced. A document a writer
    wrote meanwhile has a newer ``seq`` than the start, so it stays; one whose
    norm or comment is gone was not rewritten, so it goes.
    """
    with engine.begin() as connection:
        started = connection.scalar(sql("SELECT nextval('search_documents_seq')"))
    count = 0
    sources = ((Norm, Norm.id > 0, "norms"), (Comment, Comment.hidden_at.is_(None), "comments"))
    for model, visible, kind in sources:
        last = 0
        while True:
            with engine.begin() as connection:
                ids = connection.scalars(
                    select(model.id)
                    .where(model.id > last, visible)
                    .order_by(model.id)
                    .limit(batch_size)
                ).all()
                if not ids:
                    break
                # Taken before the rows are read: see the module's docstring.
                lock_exclusive(connection)
                pending = PendingIds()
                getattr(pending, kind).update(ids)
                count += _collect_and_write(connection, pending)
            last = ids[-1]
            if progress is not None:
                progress(len(ids))
    with engine.begin() as connection:
        lock_exclusive(connection)
        connection.execute(sql("DELETE FROM search_documents WHERE seq < :s"), {"s": started})
        connection.execute(
            sql(
                "DELETE FROM search_words w WHERE NOT EXISTS (SELECT 1 FROM search_documents d "
                "WHERE d.community_id = w.community_id AND d.kind = 'norm')"
            )
        )
    return count
