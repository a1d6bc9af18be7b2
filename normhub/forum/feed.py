"""Atom (RFC 4287) feed of a community's new proposals and status changes."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from normhub.communities.models import Community
from normhub.forum.browse import FeedItem
from normhub.markdown import plain_text
from normhub.norms.models import STATUS_LABELS
from normhub.urls import AbsoluteUrls

ATOM_NS = "http://www.w3.org/2005/Atom"
SUMMARY_CHARS = 500


def _tag(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


def _timestamp(value: datetime) -> str:
    # Stored timestamps are naive UTC.
    return value.replace(microsecond=0).isoformat() + "Z"


def _add(parent: ET.Element, name: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, _tag(name), attrs)
    if text is not None:
        element.text = text
    return element


def _entry_text(item: FeedItem) -> tuple[str, str, str]:
    """(id suffix, title, summary) of one feed entry."""
    norm = item.norm
    if item.kind == "proposed":
        return (
            f"norm-{norm.id}",
            f"Proposed: {norm.title}",
            plain_text(norm.summary)[:SUMMARY_CHARS],
        )
    change = item.change
    title = (
        f"{norm.title}: {STATUS_LABELS.get(change.from_status, change.from_status)} → "
        f"{STATUS_LABELS.get(change.to_status, change.to_status)}"
    )
    summary = change.note or f"Status changed by {change.changed_by.display_name}."
    return f"status-change-{change.id}", title, summary


def build_feed(community: Community, items: list[FeedItem], urls: AbsoluteUrls) -> bytes:
    """The feed document, every link on the site's own address (``BASE_URL``)."""
    ET.register_namespace("", ATOM_NS)
    community_url = urls.url("forum.community", slug=community.slug)
    feed = ET.Element(_tag("feed"))
    _add(feed, "title", f"{community.name} · NormHub")
    if community.description:
        _add(feed, "subtitle", plain_text(community.description)[:SUMMARY_CHARS])
    _add(feed, "id", community_url)
    updated = items[0].at if items else community.created_at
    _add(feed, "updated", _timestamp(updated))
    _add(
        feed,
        "link",
        rel="self",
        type="application/atom+xml",
        href=urls.url("forum.feed", slug=community.slug),
    )
    _add(feed, "link", rel="alternate", type="text/html", href=community_url)
    _add(feed, "generator", "NormHub")
    for item in items:
        suffix, title, summary = _entry_text(item)
        link = urls.url("norms.show", slug=community.slug, norm_ref=item.norm.slug)
        entry = _add(feed, "entry")
        _add(entry, "title", title)
        _add(entry, "id", f"{community_url}#{suffix}")
        _add(entry, "updated", _timestamp(item.at))
        _add(entry, "published", _timestamp(item.at))
        _add(entry, "link", rel="alternate", type="text/html", href=link)
        author = _add(entry, "author")
        person = item.norm.author if item.kind == "proposed" else item.change.changed_by
        _add(author, "name", person.display_name)
        _add(entry, "category", term=item.norm.status, label=item.norm.status_label)
        _add(entry, "summary", summary, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
