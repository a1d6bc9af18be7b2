"""The records API: a community's record and a member's record, as their pages show them
(joins the API blueprint). Same visibility as the pages: a members-only community is a 404
to outsiders, and a member's record counts only what the caller may see."""

from __future__ import annotations

from flask import abort, jsonify, url_for

from normhub.accounts.services import find_user_by_handle
from normhub.api.bearer import require_api_caller
from normhub.api.views import API_PREFIX, bp
from normhub.communities.services import get_visible_community
from normhub.db import get_session, utc_iso
from normhub.norms.models import Norm
from normhub.records.community import CommunityRecord, community_record
from normhub.records.member import LISTS, MemberRecord, member_record
from normhub.urls import base_url


def _norm(norm: Norm) -> dict:
    return {"id": norm.id, "slug": norm.slug, "title": norm.title, "status": norm.status}


def community_record_json(record: CommunityRecord) -> dict:
    community = record.community
    return {
        "community": {"slug": community.slug, "name": community.name},
        "url": base_url() + url_for("records.community", slug=community.slug),
        "in_force": record.in_force,
        "clear_wins": {
            "count": record.clear_win_count,
            "norms": [
                {**_norm(w.norm), "kept_at": utc_iso(w.kept_at), "reviews": w.reviews}
                for w in record.clear_wins
            ],
        },
        "retired": {
            "count": record.retired_count,
            "norms": [
                {
                    **_norm(r.norm),
                    "retired_at": utc_iso(r.retired_at),
                    "reason": r.reason,
                    "by_review": r.by_review,
                }
                for r in record.retired
            ],
        },
        "failed_assumptions": [
            {
                "statement": f.assumption.statement,
                "norm": _norm(f.norm),
                "version": f.version_number,
                "reviews_failed": f.rounds_share.to_dict(),
                "answers_failed": f.answers_share.to_dict(),
            }
            for f in record.failed_assumptions
        ],
        "checked_before_calling_out": {
            "reminders": record.checked.to_dict(),
            "shares_instead": record.shares,
            "months": [
                {
                    "month": m.key,
                    "reminders": m.checked.to_dict(),
                    "shares_instead": m.shares,
                }
                for m in record.months
            ],
        },
    }


def _links(handle: str, slug: str | None, with_activity: bool) -> dict:
    parts = (
        LISTS
        if with_activity
        else {k: v for k, v in LISTS.items() if k not in ("reminders", "reviews")}
    )
    return {
        part.replace("-", "_"): base_url()
        + url_for("records.member_list", handle=handle, part=part, community=slug)
        for part in parts
    }


def member_record_json(record: MemberRecord) -> dict:
    document = record.to_dict()
    handle = record.member.handle
    for row, counts in zip(document["communities"], record.communities, strict=True):
        row["links"] = _links(handle, counts.community.slug, counts.reminders is not None)
    document["totals"]["links"] = _links(handle, None, record.totals.reminders is not None)
    document["member"]["url"] = base_url() + url_for("forum.member", handle=handle)
    return document


@bp.get(f"{API_PREFIX}/communities/<community_slug>/record")
def get_community_record(community_slug: str):
    caller = require_api_caller()
    session = get_session()
    community = get_visible_community(session, community_slug, caller)
    return jsonify(community_record_json(community_record(session, community)))


@bp.get(f"{API_PREFIX}/members/<handle>/record")
def get_member_record(handle: str):
    caller = require_api_caller()
    session = get_session()
    member = find_user_by_handle(session, handle)
    if member is None:
        abort(404)
    return jsonify(member_record_json(member_record(session, member, caller)))
