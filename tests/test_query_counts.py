"""Queries per page do not grow with the data: the same statements at two sizes.

Each key page is requested in a small world, then again after the world grew
(more members, norms, assumptions, comments, responses, notifications); the
number of SQL statements a request runs must not change. An N+1 (a query per
comment, per norm, per member) shows up here as a difference, whatever the
database's speed.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event

from normhub.discussion.services import post_comment
from normhub.discussion.threads import COMMENTS_PER_PAGE
from normhub.exposure.ledger import record_event
from normhub.norms.services import AssumptionInput, set_prerequisites
from normhub.responses.services import record_response
from normhub.reviews.schedule import open_review
from normhub.reviews.services import AssumptionVerdict, decide, record_answer, reviewed_version
from tests.conftest import login, new_client
from tests.records_world import remind, review


class StatementCounter:
    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _seen(self, _conn, _cursor, statement, *_args) -> None:
        self.statements.append(statement)

    def count(self, client, url: str) -> int:
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._seen)
        try:
            response = client.get(url)
        finally:
            event.remove(self.engine, "before_cursor_execute", self._seen)
        assert response.status_code == 200, (url, response.status_code)
        return len(self.statements)


@pytest.fixture
def app_overrides():
    # Visitors' pages are measured as rendered, not as kept (tests/test_pagecache.py
    # shows a kept page runs no statement at all).
    return {"RATELIMIT_ENABLED": False, "PAGE_CACHE": False}


def grow(session, factory, community, norm, reader, n: int) -> None:
    """More of everything a page might loop over."""
    people = [factory.member(community, name=f"Grown {n}-{i}") for i in range(6)]
    assumptions = [AssumptionInput(f"Assumption {n}-{i} holds.") for i in range(8)]
    for i in range(3):
        other = factory.norm(
            community, people[i], title=f"Grown norm {n}-{i}", assumptions=assumptions
        )
        record_response(session, other, people[i + 1], "yes", "endorse")
    # More of the path for newcomers: norms in force, each building on the last, and
    # the reader's reading of some of them.
    previous = []
    for i in range(3):
        rule = factory.norm(community, people[i], status="in_force", title=f"Rule {n}-{i}")
        set_prerequisites(session, rule, people[i], previous[-1:])
        record_event(session, reader, rule, 1, "read")
        previous.append(rule)
    parent = None
    for i, person in enumerate(people):
        parent = post_comment(
            session, norm, person, f"Comment {n}-{i} for @{reader.handle}", parent=parent
        )
        record_response(session, norm, person, "partly", "undecided")
    session.commit()


PAGES = [
    # (who, url template)
    (None, "/"),
    (None, "/c/{slug}"),
    (None, "/c/{slug}/norms/{norm}"),
    ("reader", "/c/{slug}/norms/{norm}"),
    ("reader", "/"),
    ("reader", "/c/{slug}"),
    ("reader", "/c/{slug}/norms/{norm}/coverage"),
    ("reader", "/queue"),
    ("reader", "/notifications"),
    ("reader", "/settings/digest/preview"),
    ("reader", "/search?q=comment"),
    # A thread longer than a page: its first page and the next, however long it grows.
    (None, "/c/{slug}/norms/{long}"),
    (None, "/c/{slug}/norms/{long}/comments?page=2"),
    ("reader", "/c/{slug}/norms/{long}/comments?page=2"),
    # The path for newcomers, for a visitor and with a member's progress.
    (None, "/c/{slug}/start"),
    ("reader", "/c/{slug}/start"),
    ("reader", "/api/v1/communities/{slug}/path"),
    # A norm under review, with a decided round before: its page, the open round (the
    # reader answered it, so its counts show) and the decided one.
    (None, "/c/{slug}/norms/{reviewed}"),
    ("reader", "/c/{slug}/norms/{reviewed}"),
    ("reader", "/c/{slug}/norms/{reviewed}/reviews/{open_review}"),
    (None, "/c/{slug}/norms/{reviewed}/reviews/{decided_review}"),
]

# The path page's statements, whatever the community's size: the visitor's community and
# the norms in force (the order of the path is kept between requests, norms.path_cache:
# the words and the prerequisite links are read only when it changed); a member's adds the
# login (user, login session), the membership and their summary rows (the rest: per request).
PATH_PAGE_BOUNDS = {
    "anonymous /c/{slug}/start": 3,
    "reader /c/{slug}/start": 7,
}


def answer_review(session, factory, community, review, n: int) -> None:
    """More members answering ``review``, each on every assumption."""
    version = reviewed_version(session, review)
    for i in range(4):
        person = factory.member(community, name=f"Reviewer {n}-{i}")
        verdicts = [
            AssumptionVerdict(
                a.id, ("held", "failed", "unclear")[(i + a.position) % 3], f"Seen {i}."
            )
            for a in version.assumptions
        ]
        record_answer(session, review, person, "held", f"It worked {n}-{i}.", verdicts)
    session.commit()


def under_review(session, factory, community, author, reader, steward):
    """A norm in force with a decided review round and an open one the reader answered."""
    norm = factory.norm(
        community,
        author,
        title="Reviewed at length",
        status="in_force",
        assumptions=[AssumptionInput(f"Reviewed assumption {i}.") for i in range(5)],
    )
    decided = open_review(session, norm)
    answer_review(session, factory, community, decided, 0)
    decide(session, decided, steward, "kept")
    current = open_review(session, norm)
    record_answer(session, current, reader, "failed", "Not once.", [])
    session.commit()
    return norm, decided, current


def lengthen(session, long_norm, people, count: int) -> None:
    """``count`` more comments on ``long_norm``, replies among them, some mentioning."""
    parent = None
    for i in range(count):
        person = people[i % len(people)]
        body = f"Long {i}, for @{people[0].handle}" if i % 5 == 0 else f"Long {i}"
        parent = post_comment(session, long_norm, person, body, parent=parent if i % 3 else None)
    session.commit()


def test_queries_per_page_do_not_grow_with_the_data(app, session, factory):
    owner = factory.user("Olga Owner")
    community = factory.community(owner)
    reader = factory.member(community, name="Rea Reader")
    author = factory.member(community, name="Ann Author")
    norm = factory.norm(community, author, title="Cite the base")
    long_norm = factory.norm(community, author, title="Talked about at length")
    grow(session, factory, community, norm, reader, 1)
    lengthen(session, long_norm, [reader, author], COMMENTS_PER_PAGE + 10)
    steward = factory.member(community, name="Sam Steward", role="steward")
    reviewed, decided, current = under_review(session, factory, community, author, reader, steward)
    answer_review(session, factory, community, current, 1)

    counter = StatementCounter(app.extensions["normhub.engine"])
    clients = {None: new_client(app, session), "reader": new_client(app, session)}
    login(clients["reader"], reader)

    def measure() -> dict[str, int]:
        counts = {}
        for who, template in PAGES:
            url = template.format(
                slug=community.slug,
                norm=norm.slug,
                long=long_norm.slug,
                reviewed=reviewed.slug,
                open_review=current.id,
                decided_review=decided.id,
            )
            counter.count(clients[who], url)  # the first request warms per-process caches
            counts[f"{who or 'anonymous'} {url}"] = counter.count(clients[who], url)
        return counts

    small = measure()
    for n in range(2, 5):
        grow(session, factory, community, norm, reader, n)
    lengthen(session, long_norm, [reader, author], COMMENTS_PER_PAGE * 2)
    for n in range(2, 5):
        answer_review(session, factory, community, current, n)
    large = measure()
    grew = {page: (small[page], large[page]) for page in small if large[page] != small[page]}
    assert grew == {}, "statements per request grew with the data: (small, large)"
    for page, bound in PATH_PAGE_BOUNDS.items():
        measured = page.format(slug=community.slug)
        assert small[measured] <= bound and large[measured] <= bound, (measured, bound)


# -- The record pages -------------------------------------------------------------------------

RECORD_PAGES = [
    (None, "/c/{slug}/record"),
    ("reader", "/c/{slug}/record"),
    (None, "/members/{author}"),
    ("reader", "/members/{author}"),
    ("reader", "/members/{author}/record/proposed"),
    ("reader", "/members/{author}/record/kept?community={hidden}"),
    ("reader", "/members/{author}/record/reminders"),
    ("reader", "/members/{author}/record/reviews"),
    ("reader", "/api/v1/communities/{slug}/record"),
    ("reader", "/api/v1/members/{author}/record"),
]
# The most statements any record page may run, however long the history.
RECORD_PAGE_BOUND = 12


def grow_records(session, factory, communities, author, people, n: int) -> None:
    """More of everything a record counts, in each community: norms kept, revised and
    retired by review, failed assumptions, reminders and shares over several months."""
    for community in communities:
        steward = factory.member(community, role="steward")
        for i in range(3):
            norm = factory.norm(community, author, status="in_force", title=f"Record {n}-{i}")
            review(
                session,
                norm,
                decider=steward,
                outcome=("kept", "revise", "retire")[i],
                closed_at=datetime(2026, 1 + n, 1 + i),
                note=f"Decided {n}-{i}",
                answers={p: "held" for p in people},
                assumption_outcomes={p: ["failed", "held"] for p in people},
            )
            for month in range(1, 4):
                remind(session, norm, author, people[0], at=datetime(2025 + n % 2, month + n, 2))
                remind(
                    session,
                    norm,
                    author,
                    people[1],
                    at=datetime(2025, month, 3),
                    kind="share",
                    found_exposed=False,
                )
    session.commit()


def test_record_pages_run_a_fixed_number_of_statements(app, session, factory):
    community = factory.community()
    hidden = factory.community(visibility="members")
    author = factory.member(community, name="Ann Author")
    reader = factory.member(community, name="Rea Reader")
    for person in (author, reader):
        factory.member(hidden, person)
    people = [factory.member(c, name=f"Person {i}") for i, c in enumerate((community, hidden))]
    for person, other in zip(people, (hidden, community), strict=True):
        factory.member(other, person)
    grow_records(session, factory, (community, hidden), author, people, 1)

    counter = StatementCounter(app.extensions["normhub.engine"])
    clients = {None: new_client(app, session), "reader": new_client(app, session)}
    login(clients["reader"], reader)

    def measure() -> dict[str, int]:
        counts = {}
        for who, template in RECORD_PAGES:
            url = template.format(slug=community.slug, author=author.handle, hidden=hidden.slug)
            counter.count(clients[who], url)
            counts[f"{who or 'anonymous'} {url}"] = counter.count(clients[who], url)
        return counts

    small = measure()
    for n in range(2, 6):
        grow_records(session, factory, (community, hidden), author, people, n)
    large = measure()
    grew = {page: (small[page], large[page]) for page in small if large[page] != small[page]}
    assert grew == {}, "statements per request grew with the data: (small, large)"
    over = {page: count for page, count in large.items() if count > RECORD_PAGE_BOUND}
    assert over == {}, f"more than {RECORD_PAGE_BOUND} statements"
