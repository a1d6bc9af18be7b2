"""The notifications API: a member's notices, and marking them read (joins the API blueprint)."""

from __future__ import annotations

from flask import jsonify, request

from normhub.api.bearer import require_api_caller
from normhub.api.views import API_PREFIX, bp
from normhub.db import get_session, utc_iso
from normhub.notifications import services
from normhub.notifications.models import Notification
from normhub.pagination import MAX_PAGE, number_argument
from normhub.urls import base_url

PER_PAGE_MAX = 100


def notification_json(notification: Notification) -> dict:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "summary": notification.summary,
        "url": base_url() + notification.target,
        "community": {"slug": notification.community.slug, "name": notification.community.name},
        "count": notification.count,
        "unread": notification.is_unread,
        "created_at": utc_iso(notification.created_at),
        "updated_at": utc_iso(notification.updated_at),
    }


@bp.get(f"{API_PREFIX}/notifications")
def list_notifications():
    caller = require_api_caller()
    session = get_session()
    number = number_argument(request.args.get("page"), "page", 1, 1, MAX_PAGE)
    per_page = number_argument(request.args.get("per_page"), "per_page", 30, 1, PER_PAGE_MAX)
    unread_only = request.args.get("unread", "").lower() in ("1", "true")
    page = services.notifications_page(session, caller, number, per_page, unread_only=unread_only)
    return jsonify(
        {
            "notifications": [notification_json(n) for n in page.items],
            "unread": services.unread_count(session, caller),
            "page": page.number,
            "per_page": page.per_page,
            "total": page.total,
        }
    )


@bp.post(f"{API_PREFIX}/notifications/<id:notification_id>/read")
def read_notification(notification_id: int):
    caller = require_api_caller()
    session = get_session()
    notification = services.mark_read(session, caller, notification_id)
    document = notification_json(notification)
    session.commit()
    return jsonify(document)


@bp.post(f"{API_PREFIX}/notifications/read-all")
def read_all_notifications():
    caller = require_api_caller()
    session = get_session()
    marked = services.mark_all_read(session, caller)
    session.commit()
    return jsonify({"marked": marked, "unread": 0})
