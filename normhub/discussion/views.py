"""Comment threads on norms: the norm page's discussion panel, the later pages of a
long thread, a comment's own address, and the forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.auth import current_user_or_none, require
from normhub.communities.access import login_required_in_community
from normhub.communities.models import Community
from normhub.communities.services import (
    active_membership,
    get_visible_community,
    is_steward,
    members_mentioned,
)
from normhub.cooked import handles_in
from normhub.db import get_session
from normhub.discussion import services, threads
from normhub.discussion.forms import CommentForm, EditCommentForm
from normhub.discussion.models import Comment
from normhub.errors import DomainError
from normhub.norms.models import Norm
from normhub.norms.page import comment_page_context, load_norm, norm_url
from normhub.norms.services import get_norm
from normhub.pagination import page_number
from normhub.web import attach_error, draft_sent, saving

bp = Blueprint("discussion", __name__)


@dataclass
class DiscussionPanel:
    norm: Norm
    community: Community
    thread: threads.Thread
    viewer: User | None
    can_comment: bool
    can_moderate: bool
    form: CommentForm | None
    # The members its comments @-mention: (name, page) by handle.
    mentions: dict = field(default_factory=dict)

    @cached_property
    def post_url(self) -> str:
        """Where comments and replies go: asked twice a comment, built once a page."""
        return url_for("discussion.post", slug=self.community.slug, norm_ref=self.norm.slug)

    @property
    def norm_url(self) -> str:
        return norm_url(self.norm)

    @property
    def comment_address(self) -> str:
        """A comment's lasting address with its id left off (the page's script adds it)."""
        return url_for("discussion.comment", slug=self.community.slug, comment_id=0)[:-1]

    def page_url(self, number: int) -> str:
        """Page ``number`` of the thread: the norm page for the first."""
        return comments_page_url(self.norm, number)

    def can_edit(self, comment: Comment) -> bool:
        return (
            self.can_comment
            and self.viewer is not None
            and comment.author_id == self.viewer.id
            and not comment.is_hidden
        )

    def shows_text(self, comment: Comment) -> bool:
        return not comment.is_hidden or self.can_moderate


def _comment_form(session: Session, norm: Norm, formdata=None) -> CommentForm:
    form = CommentForm(formdata=formdata)
    form.set_assumptions(services.current_assumptions(session, norm))
    return form


def comments_page_url(norm: Norm, number: int, anchor: str | None = None) -> str:
    if number == 1:
        return norm_url(norm, anchor or "discussion-heading")
    return norm_url(norm, anchor, endpoint="discussion.comments", page=number)


def comment_url(session: Session, comment: Comment) -> str:
    """Where ``comment`` is shown now: its page of the thread, at its anchor."""
    return comments_page_url(
        comment.norm, threads.page_of(session, comment), f"comment-{comment.id}"
    )


def norm_page_context(
    session, norm, viewer, *, form: CommentForm | None = None, page: int = 1
) -> dict:
    """Template variables for the discussion panel: page ``page`` of the thread."""
    membership = active_membership(session, norm.community, viewer)
    can_comment = membership is not None
    if can_comment and form is None:
        form = _comment_form(session, norm)
    thread = threads.load_thread(session, norm, page)
    panel = DiscussionPanel(
        norm=norm,
        community=norm.community,
        thread=thread,
        viewer=viewer,
        can_comment=can_comment,
        can_moderate=viewer is not None and is_steward(membership, viewer),
        form=form if can_comment else None,
        mentions=members_mentioned(
            session, norm.community, handles_in((node.comment for node in thread.walk()), "body")
        ),
    )
    return {"discussion": panel}


@bp.get("/c/<slug>/norms/<norm_ref>/comments")
def comments(slug: str, norm_ref: str):
    """A later page of a long thread (``?page=2`` on): the norm page shows the first."""
    session, _community, norm = load_norm(slug, norm_ref)
    number = page_number(request.args.get("page"))
    if number == 1:
        return redirect(comments_page_url(norm, 1))
    viewer = current_user_or_none()
    context = norm_page_context(session, norm, viewer, page=number)
    context.update(comment_page_context(session, norm, viewer))
    return render_template("discussion/comments_page.html", norm=norm, **context)


@bp.get("/c/<slug>/comments/<id:comment_id>")
def comment(slug: str, comment_id: int):
    """A comment's lasting address: its page of the thread, whichever page that is now.

    Links to a comment (notifications, digests, search) use it: the page a comment
    is on moves as replies are added before it."""
    session = get_session()
    community = get_visible_community(session, slug, current_user_or_none())
    return redirect(comment_url(session, services.get_comment(session, community, comment_id)))


@bp.route("/c/<slug>/norms/<norm_ref>/comments", methods=["POST"])
@login_required_in_community
def post(slug: str, norm_ref: str):
    session = get_session()
    user = current_user_or_none()
    community = get_visible_community(session, slug, user)
    norm = get_norm(session, community, norm_ref)
    require(services.can_comment(session, norm, user))
    form = _comment_form(session, norm, formdata=request.form)
    if form.validate_on_submit():
        parent = None
        with saving(session, form) as attempt:
            if form.parent_comment_id is not None:
                parent = services.get_comment(session, community, form.parent_comment_id)
            comment = services.post_comment(
                session,
                norm,
                user,
                form.body.data,
                parent=parent,
                assumption_key=form.assumption_key,
            )
        if attempt.ok:
            draft_sent(request.path, f"reply-{parent.id}" if parent is not None else None)
            flash("Your comment is posted.", "success")
            return redirect(comment_url(session, comment))
    parent = None
    if form.parent_comment_id is not None:
        parent = session.get(Comment, form.parent_comment_id)
        if parent is not None and parent.norm_id != norm.id:
            parent = None
    context = norm_page_context(session, norm, user, form=form)
    return (
        render_template("discussion/post_failed.html", norm=norm, parent=parent, **context),
        422,
    )


def _load_comment(slug: str, comment_id: int) -> tuple[Session, User | None, Comment]:
    session = get_session()
    user = current_user_or_none()
    community = get_visible_community(session, slug, user)
    return session, user, services.get_comment(session, community, comment_id)


@bp.route("/c/<slug>/comments/<id:comment_id>/edit", methods=["GET", "POST"])
@login_required_in_community
def edit(slug: str, comment_id: int):
    session, user, comment = _load_comment(slug, comment_id)
    require(services.can_edit_comment(session, comment, user))
    form = EditCommentForm(obj=comment)
    status = 200
    if form.validate_on_submit():
        try:
            services.edit_comment(session, comment, user, form.body.data)
        except DomainError as error:
            session.rollback()
            attach_error(form, error)
            status = 422
        else:
            session.commit()
            draft_sent(request.path)
            flash("Your comment is updated.", "success")
            return redirect(comment_url(session, comment))
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "discussion/edit.html",
            form=form,
            comment=comment,
            comment_url=comment_url(session, comment),
        ),
        status,
    )


def _moderate(slug: str, comment_id: int, action, message: str):
    session, user, comment = _load_comment(slug, comment_id)
    action(session, comment, user)
    session.commit()
    flash(message, "success")
    return redirect(comment_url(session, comment))


@bp.route("/c/<slug>/comments/<id:comment_id>/hide", methods=["POST"])
@login_required_in_community
def hide(slug: str, comment_id: int):
    message = "The comment is hidden. Its text stays visible to stewards only."
    return _moderate(slug, comment_id, services.hide_comment, message)


@bp.route("/c/<slug>/comments/<id:comment_id>/unhide", methods=["POST"])
@login_required_in_community
def unhide(slug: str, comment_id: int):
    return _moderate(slug, comment_id, services.unhide_comment, "The comment is visible again.")
