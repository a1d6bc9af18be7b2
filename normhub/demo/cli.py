"""``flask demo load``: fill an empty database with a small, lived-in forum."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.accounts.services import find_user_by_email, register_user, update_profile
from normhub.communities.invites import create_invite, join_by_invite
from normhub.communities.models import Community, Membership
from normhub.communities.services import create_community, join_open, leave, set_role
from normhub.db import session_scope
from normhub.demo import content, script
from normhub.demo.reminders import play_reminders
from normhub.digest.preferences import set_preference
from normhub.discussion.models import Comment
from normhub.discussion.services import edit_comment, hide_comment, post_comment
from normhub.errors import DomainError
from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureEvent, ExposureSummary
from normhub.norms.models import Norm, NormVersion, StatusChange
from normhub.norms.services import (
    AssumptionInput,
    NormDraft,
    change_status,
    create_norm,
    revise_norm,
    set_prerequisites,
)
from normhub.responses.models import Response
from normhub.responses.services import AssumptionAnswer, record_response
from normhub.reviews.models import NormReview
from normhub.reviews.schedule import open_review
from normhub.reviews.services import AssumptionVerdict, decide, record_answer, reviewed_version

demo_cli = AppGroup("demo", help="Demo content for trying NormHub out.")


@dataclass
class LoadReport:
    users: int = 0
    communities: list[str] = field(default_factory=list)
    norms: int = 0
    versions: int = 0
    responses: int = 0
    comments: int = 0
    reminders: int = 0
    # Steps a service refused (e.g. the in-force coverage gate), with its reason.
    refused: list[str] = field(default_factory=list)


class DemoAlreadyLoaded(Exception):
    pass


def _draft(text: script.Text, previous: NormVersion | None) -> NormDraft:
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
    """Plays one community's norm scripts through the service layer."""

    def __init__(self, session: Session, people: dict[str, User], report: LoadReport):
        self.session = session
        self.people = people
        self.report = report
        self.comments: dict[str, Comment] = {}
        self.norms: dict[str, Norm] = {}  # by title, for BuildsOn
        self.reviews: dict[int, NormReview] = {}  # the open round, by norm id
        self.steps = {
            script.Open: self._open,
            script.Status: self._change_status,
            script.Revise: self._revise,
            script.Respond: self._respond,
            script.Say: self._say,
            script.Edit: self._edit,
            script.Hide: self._hide,
            script.Join: self._join,
            script.Leave: self._leave,
            script.Glance: self._glance,
            script.Read: self._read,
            script.BuildsOn: self._builds_on,
            script.DigestOff: self._digest_off,
            script.Elsewhere: self._elsewhere,
            script.ReviewOpens: self._review_opens,
            script.ReviewAnswer: self._review_answer,
            script.ReviewDecided: self._review_decided,
            script.TimePasses: self._time_passes,
        }

    def play(self, community: Community, norm_script: script.NormScript) -> Norm:
        norm = create_norm(
            self.session, community, self.people[norm_script.author], _draft(norm_script.text, None)
        )
        self.norms[norm.title] = norm
        self.report.norms += 1
        self.report.versions += 1
        for step in norm_script.steps:
            play_step = self.steps.get(type(step))
            if play_step is None:  # pragma: no cover - a typo in the script
                raise TypeError(f"Unknown demo step {step!r}")
            play_step(norm, step)
        return norm

    def _assumption_key(self, norm: Norm, position: int | None) -> int | None:
        if position is None:
            return None
        return _current_version(self.session, norm).assumptions[position - 1].key

    def _open(self, norm: Norm, step: script.Open) -> None:
        self._status(norm, self.people[step.by], "open", "")

    def _change_status(self, norm: Norm, step: script.Status) -> None:
        self._status(norm, self.people[step.by], step.to, step.note)

    def _revise(self, norm: Norm, step: script.Revise) -> None:
        version = revise_norm(
            self.session,
            norm,
            self.people[step.by],
            _draft(step.text, _current_version(self.session, norm)),
            step.change_summary,
            step.material,
        )
        self.report.versions += version is not None

    def _respond(self, norm: Norm, step: script.Respond) -> None:
        assumptions = _current_version(self.session, norm).assumptions
        answers = {
            assumptions[position - 1].id: AssumptionAnswer(*answer)
            for position, answer in step.answers.items()
        }
        record_response(
            self.session,
            norm,
            self.people[step.who],
            step.understood,
            step.endorsement,
            step.reason,
            answers,
        )
        self.report.responses += 1

    def _say(self, norm: Norm, step: script.Say) -> None:
        self.comments[step.label] = post_comment(
            self.session,
            norm,
            self.people[step.who],
            step.body,
            parent=self.comments[step.reply_to] if step.reply_to else None,
            assumption_key=self._assumption_key(norm, step.about),
        )
        self.report.comments += 1

    def _edit(self, norm: Norm, step: script.Edit) -> None:
        comment = self.comments[step.label]
        edit_comment(self.session, comment, comment.author, step.body)

    def _hide(self, norm: Norm, step: script.Hide) -> None:
        hide_comment(self.session, self.comments[step.label], self.people[step.by])

    def _join(self, norm: Norm, step: script.Join) -> None:
        join_open(self.session, norm.community, self.people[step.who])

    def _leave(self, norm: Norm, step: script.Leave) -> None:
        leave(self.session, norm.community, self.people[step.who])

    def _glance(self, norm: Norm, step: script.Glance) -> None:
        record_event(
            self.session, self.people[step.who], norm, norm.current_version_number, "opened"
        )

    def _read(self, norm: Norm, step: script.Read) -> None:
        # What the norm page's read report records once the reader reached the end.
        version = _current_version(self.session, norm)
        record_event(self.session, self.people[step.who], norm, version, "opened")
        record_event(self.session, self.people[step.who], norm, version, "read")

    def _time_passes(self, norm: Norm, step: script.TimePasses) -> None:
        # The services write "now"; moving what they wrote back is the demo's only way to
        # tell a story that took more than a day. Thirty-one days a month: at least as
        # many calendar months as the script says.
        back = timedelta(days=31 * step.months)
        self.session.flush()
        for model, columns, where in (
            (Norm, ("created_at", "status_changed_at", "last_activity_at"), Norm.id == norm.id),
            (NormVersion, ("created_at",), NormVersion.norm_id == norm.id),
            (StatusChange, ("changed_at",), StatusChange.norm_id == norm.id),
            (Response, ("created_at",), Response.norm_id == norm.id),
            (ExposureEvent, ("created_at",), ExposureEvent.norm_id == norm.id),
            (ExposureSummary, SUMMARY_TIMES, ExposureSummary.norm_id == norm.id),
            (Membership, ("joined_at",), Membership.community_id == norm.community_id),
            (Community, ("created_at",), Community.id == norm.community_id),
        ):
            for row in self.session.scalars(select(model).where(where)):
                for name in columns:
                    if getattr(row, name) is not None:
                        setattr(row, name, getattr(row, name) - back)
        self.session.flush()

    def _digest_off(self, norm: Norm, step: script.DigestOff) -> None:
        set_preference(self.session, self.people[step.who].id, norm.community_id, "off")

    def _elsewhere(self, _norm: Norm, step: script.Elsewhere) -> None:
        self.steps[type(step.step)](self.norms[step.title], step.step)

    def _builds_on(self, norm: Norm, step: script.BuildsOn) -> None:
        others = [self.norms[title] for title in step.titles]
        set_prerequisites(self.session, norm, self.people[step.by], others)

    def _review_opens(self, norm: Norm, _step: script.ReviewOpens) -> None:
        self.reviews[norm.id] = open_review(self.session, norm)

    def _review_answer(self, norm: Norm, step: script.ReviewAnswer) -> None:
        review = self.reviews[norm.id]
        assumptions = reviewed_version(self.session, review).assumptions
        verdicts = [
            AssumptionVerdict(assumptions[position - 1].id, outcome, evidence)
            for position, (outcome, evidence) in step.answers.items()
        ]
        record_answer(
            self.session, review, self.people[step.who], step.worked, step.evidence, verdicts
        )

    def _review_decided(self, norm: Norm, step: script.ReviewDecided) -> None:
        decide(self.session, self.reviews[norm.id], self.people[step.by], step.outcome, step.note)

    def _status(self, norm: Norm, actor: User, to_status: str, note: str) -> None:
        # A gate (coverage, attention budget) may refuse; the demo goes on without it.
        try:
            with self.session.begin_nested():
                change_status(self.session, norm, actor, to_status, note)
        except DomainError as refusal:
            self.report.refused.append(
                f"“{norm.title}” was not moved to {to_status}: {refusal.message}"
            )


SUMMARY_TIMES = ("first_seen_at", "last_seen_at", "level_at", "highest_level_at")


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

    for community_script in content.COMMUNITIES:
        creator = people[community_script.creator]
        community = create_community(
            session,
            creator,
            community_script.name,
            slug=community_script.slug,
            description=community_script.description,
            visibility=community_script.visibility,
            join_policy=community_script.join_policy,
        )
        community.reread_months = community_script.reread_months
        report.communities.append(community_script.slug)
        invite = (
            create_invite(session, community, creator)
            if community_script.join_policy != "open"
            else None
        )
        for handle in community_script.members:
            if invite is None:
                join_open(session, community, people[handle])
            else:
                join_by_invite(session, invite.token, people[handle])
        for handle in community_script.stewards:
            set_role(session, community, creator, people[handle], "steward")
        player = _NormPlayer(session, people, report)
        for norm_script in community_script.norms:
            player.play(community, norm_script)
    session.flush()
    report.reminders = play_reminders(session, people, report.refused)
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
    click.echo("")
    click.echo("Try the exposure check (Check who has seen what, as a member of the community):")
    names = {person.handle: person.display_name for person in content.PEOPLE}
    for who, title, code in content.EXPOSURE_TRIES:
        click.echo(f"  {names[who]} on “{title}” → {code}")
    who, slug = content.NEWCOMER
    click.echo("")
    click.echo(f"A newcomer halfway along a path: log in as {names[who]} and open /c/{slug}/start.")
