"""Comment threads on norms: the norm page's discussion panel and its forms."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    mention_names,
)
from normhub.db import get_session
from normhub.discussion import services
from normhub.discussion.forms import CommentForm, EditCommentForm
from normhub.discussion.models import Comment
from normhub.errors import DomainError
from normhub.norms.models import Norm
from normhub.norms.page import norm_url
from normhub.norms.services import get_norm
from normhub.web import attach_error, draft_sent, saving

bp = Blueprint("discussion", __name__)


@dataclass
class DiscussionPanel:
    norm: Norm
    community: Community
    thread: services.Thread
    viewer: User | None
    can_comment: bool
    can_moderate: bool
    form: CommentForm | None
    # The members its comments @-mention: (name, page) by handle.
    mentions: dict = field(default_factory=dict)

    @property
    def post_url(self) -> str:
        return url_for("discussion.post", slug=self.community.slug, norm_ref=self.norm.slug)

    @property
    def norm_url(self) -> str:
        return norm_url(self.norm)

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


def norm_page_context(session, norm, viewer, *, form: CommentForm | None = None) -> dict:
    """Template variables for the discussion panel of the norm page."""
    membership = active_membership(session, norm.community, viewer)
    can_comment = membership is not None
    if can_comment and form is None:
        form = _comment_form(session, norm)
    thread = services.load_thread(session, norm)
    panel = DiscussionPanel(
        norm=norm,
        community=norm.community,
        thread=thread,
        viewer=viewer,
        can_comment=can_comment,
        can_moderate=viewer is not None and is_steward(membership, viewer),
        form=form if can_comment else None,
        mentions=mention_names(
            session, norm.community, (node.comment.body for node in thread.walk())
        ),
    )
    return {"discussion": panel}


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
            return redirect(norm_url(norm, f"comment-{comment.id}"))
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
            return redirect(norm_url(comment.norm, f"comment-{comment.id}"))
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "discussion/edit.html", form=form, comment=comment, norm_url=norm_url(comment.norm)
        ),
        status,
    )


def _moderate(slug: str, comment_id: int, action, message: str):
    session, user, comment = _load_comment(slug, comment_id)
    action(session, comment, user)
    session.commit()
    flash(message, "success")
    return redirect(norm_url(comment.norm, f"comment-{comment.id}"))


@bp.route("/c/<slug>/comments/<id:comment_id>/hide", methods=["POST"])
@login_required_in_community
def hide(slug: str, comment_id: int):
    message = "The comment is hidden. Its text stays visible to stewards only."
    return _moderate(slug, comment_id, services.hide_comment, message)


@bp.route("/c/<slug>/comments/<id:comment_id>/unhide", methods=["POST"])
@login_required_in_community
def unhide(slug: str, comment_id: int):
    return _moderate(slug, comment_id, services.unhide_comment, "The comment is visible again.")
