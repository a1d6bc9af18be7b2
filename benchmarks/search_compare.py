"""``benchmarks/search.py --compare``: the custom matching and scoring against Whoosh's own.

The same queries, on the same index, in the same run, three ways:

* custom: what the app runs (``querying.find``): bitsets for the visibility
  filter, the exact total and the facet counts; the ranked page scored with
  BM25F from cached term weights (``scoring.Scorer``);
* bitsets + Whoosh scoring: the same bitsets, but the candidates scored by
  Whoosh's own matchers (what ``Scorer`` replaces);
* plain Whoosh: ``searcher.search`` with the visibility filter and the facet
  selections as a filter query, ``groupedby`` the four facets (counts), scored
  by Whoosh's BM25F, and its exact total.

Only the engine's work is timed (total, facet counts, the page's docnums);
snippets and the database refresh cost the same whichever way the page was found.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager

from whoosh import query as wq
from whoosh import sorting

from normhub.accounts.models import User
from normhub.search import services as search_services
from normhub.search.backend import backend_for
from normhub.search.query import build_query
from normhub.search.results import FACET_FIELDS, PER_PAGE
from normhub.search.whoosh import querying, scoring
from normhub.search.whoosh.searchers import searcher_for


def plain_whoosh(searcher, parsed, query, limit: int) -> querying.Found:
    facets = sorting.Facets()
    for name in FACET_FIELDS:
        facets.add_field(name, allow_overlap=name == "tag")
    visible = wq.Or([wq.Term("community_id", str(cid)) for cid in sorted(query.communities)])
    allowed = wq.And([visible, *querying.filter_terms(query.filters)])
    results = searcher.search(
        parsed, filter=allowed, groupedby=facets, maptype=sorting.Count, limit=limit
    )
    counts = {
        name: {str(value): n for value, n in results.groups(name).items() if value and n}
        for name in FACET_FIELDS
    }
    return querying.Found(len(results), counts, [hit.docnum for hit in results])


@contextmanager
def whoosh_scoring():
    """Candidates scored by Whoosh's matchers instead of ``Scorer`` (its own fallback)."""
    real = scoring.Scorer.scores
    scoring.Scorer.scores = lambda self, q: None
    try:
        yield
    finally:
        scoring.Scorer.scores = real


def _median_seconds(run, repeats: int):
    found = run()  # first run: fills the caches both ways
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        found = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), found


def _nonzero(counts: dict) -> dict:
    return {name: {k: n for k, n in values.items() if n} for name, values in counts.items()}


def compare(app, reader_id: int, queries: list[str], repeats: int) -> list[dict]:
    """One row per query: the three timings and whether the answers agree."""
    rows = []
    with app.app_context():
        session = app.extensions["normhub.sessionmaker"]()
        communities = search_services.visible_communities(session, session.get(User, reader_id))
        session.close()
        searcher = searcher_for(backend_for(app).directory)
        for text in queries:
            query = build_query(text, {}, communities)
            parsed, _ = querying.parse_query(query.text, communities)
            if querying.is_nothing(parsed):
                continue

            def custom(parsed=parsed, query=query):
                return querying.find(searcher, parsed, query, PER_PAGE)

            custom_s, mine = _median_seconds(custom, repeats)
            with whoosh_scoring():
                scored_s, theirs_scored = _median_seconds(custom, repeats)
            plain_s, theirs = _median_seconds(
                lambda parsed=parsed, query=query: plain_whoosh(searcher, parsed, query, PER_PAGE),
                max(1, repeats // 3),
            )
            rows.append(
                {
                    "query": text,
                    "total": mine.total,
                    "custom": custom_s,
                    "whoosh_scoring": scored_s,
                    "plain": plain_s,
                    "same_total": mine.total == theirs.total,
                    "same_facets": _nonzero(mine.counts) == _nonzero(theirs.counts),
                    "same_page_scored": mine.docnums == theirs_scored.docnums,
                    "page_overlap": len(set(mine.docnums) & set(theirs.docnums)),
                    "page_size": len(mine.docnums),
                }
            )
    return rows


def report_lines(rows: list[dict], scale_note: str, segments: int) -> list[str]:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}x" if b else "n/a"

    custom = [r["custom"] for r in rows]
    scored = [r["whoosh_scoring"] for r in rows]
    plain = [r["plain"] for r in rows]
    lines = [
        "",
        "## Custom matching vs Whoosh's own",
        "",
        f"`--compare`, {scale_note}, on the same index ({segments} segments) in the same run; "
        "engine time only (total, facet counts, the page's docnums; no snippets or database).",
        "",
        f"- custom (bitsets + cached-weight BM25F): median {statistics.median(custom) * 1000:.1f} "
        f"ms, max {max(custom) * 1000:.1f} ms.",
        f"- bitsets + Whoosh's matchers scoring: median {statistics.median(scored) * 1000:.1f} ms, "
        f"max {max(scored) * 1000:.1f} ms; median ratio to custom "
        f"{statistics.median(s / c for s, c in zip(scored, custom, strict=True)):.1f}x.",
        f"- plain Whoosh (filter + groupedby facets + BM25F): median "
        f"{statistics.median(plain) * 1000:.0f} ms, max {max(plain) * 1000:.0f} ms; median ratio "
        f"to custom {statistics.median(p / c for p, c in zip(plain, custom, strict=True)):.0f}x.",
        f"- Same totals: {sum(r['same_total'] for r in rows)}/{len(rows)}; same facet counts: "
        f"{sum(r['same_facets'] for r in rows)}/{len(rows)}; same page with Whoosh's scoring "
        f"of the same candidates: {sum(r['same_page_scored'] for r in rows)}/{len(rows)}.",
        "",
        "| query | hits | custom ms | Whoosh scoring ms | ratio | plain Whoosh ms | ratio "
        "| page overlap with plain |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        shown = r["query"].replace("|", "\\|")
        lines.append(
            f"| `{shown}` | {r['total']:,} | {r['custom'] * 1000:.1f} "
            f"| {r['whoosh_scoring'] * 1000:.1f} | {ratio(r['whoosh_scoring'], r['custom'])} "
            f"| {r['plain'] * 1000:.0f} | {ratio(r['plain'], r['custom'])} "
            f"| {r['page_overlap']}/{r['page_size']} |"
        )
    return lines
