"""A community whose every text is hostile, seeded through the services, for the XSS test.

Each kind of text gets the payloads of tests/xss_corpus.py packed into as few
values as its length limit allows, so every payload passes through every field
that can hold it (one-line fields take the one-line payloads only, names only
those of at most 80 characters). ``World.texts`` keeps, for each place a page
shows, the hostile values put there, so the test can tell from their markers
that a page really showed them (as text) rather than lost them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from normhub.accounts.emails import send_password_reset_email
from normhub.accounts.models import BIO_MAX, DISPLAY_NAME_MAX, User
from normhub.accounts.services import find_user_by_email, register_user, update_profile
from normhub.accounts.verification import (
    send_account_exists_email,
    send_email_changed_email,
    sign_up,
)
from normhub.communities.models import Community, Membership
from normhub.communities.services import DESCRIPTION_MAX, NAME_MAX, create_community
from normhub.discussion.services import post_comment
from normhub.exposure.check import check_exposure, record_page_check
from normhub.exposure.check_records import save_reply
from normhub.exposure.ledger import record_event
from normhub.exposure.models import NOTE_MAX, REMINDER_TEXT_MAX, REPLY_MAX
from normhub.exposure.nudges import nudge
from normhub.exposure.reminders import act_on_check, check_before_reminding, reply_to_reminder
from normhub.norms.models import CHANGE_SUMMARY_MAX, STATEMENT_MAX, TITLE_MAX, Norm, NormVersion
from normhub.norms.services import (
    AssumptionInput,
    NormDraft,
    change_status,
    create_norm,
    revise_norm,
)
from normhub.responses.models import REASON_MAX
from normhub.responses.services import AssumptionAnswer, record_response
from tests.factories import Factory
from tests.xss_corpus import PAYLOADS, fitting, markers_in, pack

# The digest shows a summary cut at 300 characters: shorter summaries reach it whole.
DIGEST_SUMMARY = 290
# Norms split over two communities, so each Atom feed (50 entries) holds all of its own.
FEED_COMMUNITIES = 2
PASSWORD = Factory.PASSWORD


@dataclass
class World:
    steward: User  # admin of every community; author of the essay, checks and reminds
    reader: User  # checked, reminded, nudged, replied to: the one whose digest is full
    newcomer: User  # has the essay shared with them (the norm_shared email)
    unverified: User  # registered, never confirmed: sees the banner that repeats the path
    main: Community
    essay: Norm
    norms: list[Norm]
    communities: list[Community]
    bio_owners: list[User]
    steward_comment_id: int = 0
    check_ids: list[int] = field(default_factory=list)  # the steward's, with notes
    remind_check_id: int = 0  # the steward's last reminder of the reader, acted on
    open_check_id: int = 0  # a check of the reader that nothing was done with yet
    feeds: list = field(default_factory=list)  # what each feed must hold (the test fills it)
    # place ("names", "titles", "essay", ...) -> the hostile values put there
    texts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def note(self, place: str, *texts: str) -> list[str]:
        self.texts[place].extend(texts)
        return list(texts)

    def markers(self, place: str, *which: int) -> set[str]:
        """The markers of the payloads put in ``place`` (only its values ``which``, if given)."""
        values = self.texts[place]
        chosen = [values[i] for i in which] if which else values
        return set().union(*(markers_in(text) for text in chosen))


_emails = itertools.count(1)


def _person(session: Session, name: str) -> User:
    return register_user(
        session, f"xss-person-{next(_emails)}@example.org", name, PASSWORD, verified=True
    )


def _join(session: Session, community: Community, *users: User) -> None:
    for user in users:
        session.add(Membership(community_id=community.id, user_id=user.id, role="member"))
    session.flush()


def seed(session: Session) -> World:
    names = pack(fitting(DISPLAY_NAME_MAX, one_line=True), DISPLAY_NAME_MAX)
    assert len(names) >= 8, "the corpus fills too few names for the roles below"
    unverified_name, *registered = names
    people = [_person(session, name) for name in registered]
    steward, reader, newcomer, *voices = people
    sign_up(session, "xss-unverified@example.org", unverified_name, PASSWORD)
    unverified = find_user_by_email(session, "xss-unverified@example.org")

    community_names = pack(fitting(NAME_MAX, one_line=True), NAME_MAX)
    descriptions = pack(PAYLOADS, DESCRIPTION_MAX, "\n\n")
    communities = [
        create_community(
            session,
            steward,
            name,
            slug=f"xss-{n}",
            description=descriptions[n] if n < len(descriptions) else "",
        )
        for n, name in enumerate(community_names)
    ]
    main = communities[0]
    for community in communities[:FEED_COMMUNITIES]:
        _join(session, community, reader, newcomer, *voices)

    world = World(steward, reader, newcomer, unverified, main, None, [], communities, [])
    # The unverified visitor's name first: the others are the main community's members.
    world.note("names", unverified_name, *(p.display_name for p in people))
    world.note("community names", *community_names)
    world.note("descriptions", *descriptions)
    _bios(session, world, people)
    _essay(session, world)
    _titled_norms(session, world, voices)
    _discussion(session, world, voices)
    _responses(session, world)
    _checks_and_reminders(session, world)
    _account_emails(session, world)
    session.commit()
    return world


def _bios(session: Session, world: World, people: list[User]) -> None:
    bios = world.note("bios", *pack(PAYLOADS, BIO_MAX, "\n\n"))
    for person, bio in zip(people, bios, strict=False):
        update_profile(session, person, person.display_name, bio)
        world.bio_owners.append(person)


def _statements() -> list[str]:
    return pack(fitting(STATEMENT_MAX, one_line=True), STATEMENT_MAX)


def _essay(session: Session, world: World) -> None:
    """The essay: every payload a paragraph, assumptions full of them, and revisions whose
    change summaries carry them; the last revision moves text around so the diff from
    version 1 shows payloads removed, added and reworded."""
    titles = pack(fitting(TITLE_MAX, one_line=True), TITLE_MAX)
    summaries = pack(PAYLOADS, DIGEST_SUMMARY, "\n\n")
    statements = _statements()
    explanations = pack(PAYLOADS, 4000, "\n\n")
    paragraphs = [p.text for p in PAYLOADS]
    body = "\n\n".join(paragraphs)
    first = NormDraft(
        titles[0],
        summaries[0],
        body,
        [AssumptionInput(s, explanations[0] if i == 0 else "") for i, s in enumerate(statements)],
        ["hostile-input"],
    )
    essay = create_norm(session, world.main, world.steward, first)
    world.note("essay titles", titles[0], titles[1])
    world.note("essay", body)
    world.note("statements", *statements)
    world.note("explanations", *explanations)
    one_line_changes = fitting(CHANGE_SUMMARY_MAX, one_line=True)
    changes = world.note("change summaries", *pack(one_line_changes, CHANGE_SUMMARY_MAX))
    keys = [a.key for a in essay.current_version.assumptions]
    for number, change in enumerate(changes, start=1):
        last = number == len(changes)
        half = len(paragraphs) // 2
        moved = paragraphs[half:] + paragraphs[:half] if last else paragraphs
        draft = NormDraft(
            titles[1] if last else titles[0],
            summaries[1] if last else summaries[0],
            "\n\n".join(moved) + ("" if last else f"\n\nRevision {number}."),
            _revised_assumptions(statements, explanations, keys, last),
            ["hostile-input"],
        )
        revise_norm(session, essay, world.steward, draft, change, is_material=True)
    change_status(session, essay, world.steward, "open", PAYLOADS[0].text)
    # In force past the coverage gate, as the factory puts norms in force.
    essay.status = "in_force"
    Factory.put_current_version_in_force(essay)
    world.essay = essay
    session.flush()


def _revised_assumptions(statements, explanations, keys, last: bool) -> list[AssumptionInput]:
    if not last:
        return [
            AssumptionInput(s, explanations[0] if i == 0 else "", keys[i])
            for i, s in enumerate(statements)
        ]
    # Reworded (each takes the next one's words), the last one dropped, a new one added.
    reworded = [AssumptionInput(statements[i + 1], "", keys[i]) for i in range(len(statements) - 1)]
    return [*reworded, AssumptionInput(statements[0], explanations[0])]


def _titled_norms(session: Session, world: World, authors: list[User]) -> None:
    """A norm for each packed title, split over the feed communities, each summary carrying
    payloads; the status notes (which the Atom feed shows) carry them too."""
    titles = pack(fitting(TITLE_MAX, one_line=True), TITLE_MAX)
    summaries = pack(PAYLOADS, DIGEST_SUMMARY, "\n\n")
    notes = pack(PAYLOADS, 500, "\n\n")
    world.note("titles", *titles[2:])
    world.note("summaries", *summaries)
    world.note("status notes", *notes)
    statement = "Hostile input is shown as text and never run."
    for n, title in enumerate(titles[2:]):
        community = world.communities[n % FEED_COMMUNITIES]
        author = authors[n % len(authors)]
        draft = NormDraft(
            title,
            summaries[n % len(summaries)],
            "Plain words.",
            [AssumptionInput(statement)],
            ["hostile-input"],
        )
        norm = create_norm(session, community, author, draft)
        note = notes[n] if n < len(notes) else ""
        change_status(session, norm, author, "open", note)
        world.norms.append(norm)
    # The reader and everyone else asked by the steward to read the first of them.
    nudge(session, world.steward, world.norms[0])
    session.flush()


def _discussion(session: Session, world: World, voices: list[User]) -> None:
    """The reader comments; every payload is a reply to it (so the reader's digest lists
    each one), by the members with hostile names; the steward's comment holds them all."""
    opening = post_comment(session, world.essay, world.reader, "Is this norm fair?")
    for payload, voice in zip(PAYLOADS, itertools.cycle(voices), strict=False):
        post_comment(session, world.essay, voice, payload.text, parent=opening)
    world.note("comments", *(p.text for p in PAYLOADS))
    everything = "\n\n".join(p.text for p in PAYLOADS)
    own = post_comment(session, world.essay, world.steward, everything)
    world.steward_comment_id = own.id


def _responses(session: Session, world: World) -> None:
    """The reader read the text in force and answered with hostile reasons, rejecting the
    first assumption (which the remind page quotes back)."""
    essay = world.essay
    record_event(session, world.reader, essay, essay.current_version_number, "read")
    reasons = world.note("reasons", *pack(PAYLOADS, REASON_MAX, "\n\n"))
    assumptions = session.get(NormVersion, essay.current_version_id).assumptions
    answers = {a.id: AssumptionAnswer("yes", "agree") for a in assumptions}
    answers[assumptions[0].id] = AssumptionAnswer("yes", "disagree", reasons[-1])
    record_response(session, essay, world.reader, "yes", "endorse", reasons[0], answers)


def _checks_and_reminders(session: Session, world: World) -> None:
    essay, steward, reader = world.essay, world.steward, world.reader
    notes = world.note("check notes", *pack(PAYLOADS, NOTE_MAX, "\n\n"))
    replies = world.note("check replies", *pack(PAYLOADS, REPLY_MAX, "\n\n"))
    for note, reply in zip(notes, itertools.cycle(replies), strict=False):
        report = check_exposure(session, essay, reader)
        check = record_page_check(session, steward, reader, essay, report, note=note)
        save_reply(session, check, reader, reply)
        world.check_ids.append(check.id)
    texts = world.note("reminder notes", *pack(PAYLOADS, REMINDER_TEXT_MAX, "\n\n"))
    for text in texts:
        check = check_before_reminding(session, steward, essay, reader)
        taken = act_on_check(session, steward, essay, check.id, "reminder", text)
        reply_to_reminder(session, reader, taken.reminder.id, text)
        world.remind_check_id = check.id
        shared = check_before_reminding(session, steward, essay, world.newcomer)
        act_on_check(session, steward, essay, shared.id, "share", text)
    world.note("shares", *texts)
    world.open_check_id = check_before_reminding(session, steward, essay, reader).id


def _account_emails(session: Session, world: World) -> None:
    """The account emails that greet a member by name, for the steward's hostile name."""
    steward = world.steward
    send_email_changed_email(session, steward, "xss-new-address@example.org")
    send_account_exists_email(session, steward)
    send_password_reset_email(session, steward, "http://normhub.test/password/reset/token")
