"""``flask demo load``: fill an empty database with a small, lived-in forum."""

from __future__ import annotations

from dataclasses import dataclass, field

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.accounts.services import find_user_by_email, register_user, update_profile
from normhub.communities.models import Community
from normhub.communities.services import (
    create_community,
    create_invite,
    join_by_invite,
    join_open,
    set_role,
)
from normhub.db import session_scope
from normhub.demo import content
from normhub.discussion.models import Comment
from normhub.discussion.services import edit_comment, hide_comment, post_comment
from normhub.errors import DomainError
from normhub.norms.models import Norm, NormVersion
from normhub.norms.services import (
    AssumptionInput,
    NormDraft,
    change_status,
    create_norm,
    revise_norm,
)
from normhub.responses.services import AssumptionAnswer, record_response

demo_cli = AppGroup("demo", help="Demo content for trying NormHub out.")


@dataclass
class LoadReport:
    users: int = 0
    communities: list[str] = field(default_factory=list)
    norms: int = 0
    versions: int = 0
    responses: int = 0
    comments: int = 0
    # Steps a service refused (e.g. the in-force coverage gate), with its reason.
    refused: list[str] = field(default_factory=list)


class DemoAlreadyLoaded(Exception):
    pass


def _draft(text: content.Text, previous: NormVersion | None) -> NormDraft:
    assumptions = []
    for item in text.assumptions:
        key = None
        if previous is not None and item.continues is not None:
            key = previous.assumptions[item.continues - 1].key
        assumptions.append(AssumptionInput(item.statement, item.explanation, key))
    return NormDraft(text.title, text.summary, text.body, assumptions, list(text.tags))


def _current_version(session: Session, norm: Norm) -> NormVersion:
    return session.get(NormVersion, norm.current_version_id)


class _NormPlayer:
    """Plays one norm's script through the service layer."""

    def __init__(self, session: Session, people: dict[str, User], report: LoadReport):
        self.session = session
        self.people = people
        self.report = report
        self.comments: dict[str, Comment] = {}

    def play(self, community: Community, script: content.NormScript) -> Norm:
        norm = create_norm(
            self.session, community, self.people[script.author], _draft(script.text, None)
        )
        self.report.norms += 1
        self.report.versions += 1
        for step in script.steps:
            self._step(norm, step)
        return norm

    def _assumption_key(self, norm: Norm, position: int | None) -> int | None:
        if position is None:
            return None
        return _current_version(self.session, norm).assumptions[position - 1].key

    def _step(self, norm: Norm, step) -> None:
        who = self.people
        if isinstance(step, content.Open):
            self._status(norm, who[step.by], "open", "")
        elif isinstance(step, content.Status):
            self._status(norm, who[step.by], step.to, step.note)
        elif isinstance(step, content.Revise):
            version = revise_norm(
                self.session,
                norm,
                who[step.by],
                _draft(step.text, _current_version(self.session, norm)),
                step.change_summary,
                step.material,
            )
            self.report.versions += version is not None
        elif isinstance(step, content.Respond):
            assumptions = _current_version(self.session, norm).assumptions
            answers = {
                assumptions[position - 1].id: AssumptionAnswer(*answer)
                for position, answer in step.answers.items()
            }
            record_response(
                self.session,
                norm,
                who[step.who],
                step.understood,
                step.endorsement,
                step.reason,
                answers,
            )
            self.report.responses += 1
        elif isinstance(step, content.Say):
            self.comments[step.label] = post_comment(
                self.session,
                norm,
                who[step.who],
                step.body,
                parent=self.comments[step.reply_to] if step.reply_to else None,
                assumption_key=self._assumption_key(norm, step.about),
            )
            self.report.comments += 1
        elif isinstance(step, content.Edit):
            comment = self.comments[step.label]
            edit_comment(self.session, comment, comment.author, step.body)
        elif isinstance(step, content.Hide):
            hide_comment(self.session, self.comments[step.label], who[step.by])
        else:  # pragma: no cover - a typo in the script
            raise TypeError(f"Unknown demo step {step!r}")

    def _status(self, norm: Norm, actor: User, to_status: str, note: str) -> None:
        # A gate (coverage, attention budget) may refuse; the demo goes on without it.
        try:
            with self.session.begin_nested():
                change_status(self.session, norm, actor, to_status, note)
        except DomainError as refusal:
            self.report.refused.append(
                f"“{norm.title}” was not moved to {to_status}: {refusal.message}"
            )


def load_demo(session: Session) -> LoadReport:
    """Create the demo people, communities and norms. The caller commits."""
    if any(find_user_by_email(session, person.email) for person in content.PEOPLE) or any(
        session.scalar(select(Community.id).where(Community.slug == c.slug))
        for c in content.COMMUNITIES
    ):
        raise DemoAlreadyLoaded("The demo content is already loaded.")
    report = LoadReport()
    people: dict[str, User] = {}
    for person in content.PEOPLE:
        user = register_user(
            session, person.email, person.display_name, content.DEMO_PASSWORD, verified=True
        )
        if person.bio:
            update_profile(session, user, person.display_name, person.bio)
        people[person.handle] = user
        report.users += 1

    for script in content.COMMUNITIES:
        creator = people[script.creator]
        community = create_community(
            session,
            creator,
            script.name,
            slug=script.slug,
            description=script.description,
            visibility=script.visibility,
            join_policy=script.join_policy,
        )
        report.communities.append(script.slug)
        invite = (
            create_invite(session, community, creator) if script.join_policy != "open" else None
        )
        for handle in script.members:
            if invite is None:
                join_open(session, community, people[handle])
            else:
                join_by_invite(session, invite.token, people[handle])
        for handle in script.stewards:
            set_role(session, community, creator, people[handle], "steward")
        player = _NormPlayer(session, people, report)
        for norm_script in script.norms:
            player.play(community, norm_script)
    session.flush()
    return report


def database_has_users(session: Session) -> bool:
    return (session.scalar(select(func.count(User.id))) or 0) > 0


@demo_cli.command("load")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing if the database already has any user (safe to run on every deploy).",
)
def load(if_empty: bool) -> None:
    """Load demo communities, members, norms, responses and comments."""
    with session_scope(current_app) as session:
        if if_empty and database_has_users(session):
            click.echo("The database already has users; demo content not loaded.")
            return
        try:
            report = load_demo(session)
        except DemoAlreadyLoaded as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Loaded {report.users} people, {len(report.communities)} communities "
        f"({', '.join(report.communities)}), {report.norms} norms with {report.versions} "
        f"versions, {report.responses} responses and {report.comments} comments."
    )
    for refusal in report.refused:
        click.echo(f"Note: {refusal}")
    click.echo("")
    click.echo("Log in as any of these (all share one password):")
    for person in content.PEOPLE:
        click.echo(f"  {person.email:<22} {person.display_name}")
    click.echo(f"Password: {content.DEMO_PASSWORD}")
