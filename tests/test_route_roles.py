"""Every route, asked by every role, answers as normhub/policy.py says.

ACCESS names, for each endpoint of the URL map, what decides who may use it: a
policy action (``policy.RULES``), a party rule (``policy.PARTY_RULES``), a role
rank, or plainly "anyone", "signed in", "sees the community". The answer each
role should get is worked out from that entry and the policy, never written by
hand; then every route is requested as each role, in a public and in a
members-only community, and the answers compared. A route missing from ACCESS
fails the walk: no route escapes review.

Answers are compared by class: ALLOWED (the view did its work: a page, a
redirect, or a form sent back with its errors), LOG_IN (sent to the login page;
401 from the API), REFUSED (403) and HIDDEN (404). A POST carries an empty form
(or the little INPUTS gives it): a role let through a form is answered with the
form's errors; a one-click route acts (hides a comment, queues a nudge), and
those that change who is in the world, or end the login, run last. Each role
walks a world of its own, so what one role did never changes another's answers.
Rate limits are off for the walk.

Whoever may not see the members-only community must also never read its name,
its norm's title or its comments in any answer (but where a token in the
address is the credential: an invite link names its community).

The order the app asks in, which the expectations follow:
- a page under a community's address (``/c/<slug>/…``) is a 404 to whoever may
  not see that community, before anything else, login included: a members-only
  community does not exist for outsiders (README);
- then anyone not signed in is asked to log in (pages outside a community's
  address and the API ask this first);
- then the route's own rule: 403 to those it refuses; 404 where the record is
  someone else's to see (a check, a reminder, a token, a login).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import pytest

from normhub import policy
from normhub.accounts.deletion import delete_account
from tests.conftest import login, new_client
from tests.factories import Factory
from tests.role_world import MEMBERS_ONLY, NAMES, PUBLIC, Place, World, build_world
from tests.route_helpers import Route, every_route, route_url

ALLOWED, LOG_IN, REFUSED, HIDDEN = "allowed", "log in", "403", "404"


@dataclass(frozen=True)
class Case:
    """One role asking one route, in one community (or none)."""

    user: object  # the signed-in User, or None
    membership: object  # their membership row in the route's community, or None
    place: Place | None
    world: World

    @property
    def sees(self) -> bool:
        """May see the community the route is about (any route outside one: yes)."""
        if self.place is None or self.place.community.is_public:
            return True
        return policy.allows("community.see-members-only", self.membership, self.user)

    def allows(self, action: str, *, is_author: bool = False) -> bool:
        return policy.allows(action, self.membership, self.user, is_author=is_author)


# -- What decides each route ---------------------------------------------------------------
#
# Each kind answers ``expect(case, hides_first)``: ``hides_first`` is true for routes
# under a community's address, which hide a community the asker may not see before
# asking for a login.


def _gate(case: Case, hides_first: bool, decide: Callable[[], str], *, login=True) -> str:
    if hides_first and not case.sees:
        return HIDDEN
    if login and case.user is None:
        return LOG_IN
    if not case.sees:
        return HIDDEN
    return decide()


@dataclass(frozen=True)
class Anyone:
    """No login, no community: the same for everyone."""

    def expect(self, case: Case, hides_first: bool) -> str:
        return ALLOWED


@dataclass(frozen=True)
class Token(Anyone):
    """The signed token (or invite link) in the address is the credential, whoever holds it;
    such pages may name what the token is for, so the leak scan passes over them."""

    signed_in_only: bool = False

    def expect(self, case: Case, hides_first: bool) -> str:
        return LOG_IN if self.signed_in_only and case.user is None else ALLOWED


@dataclass(frozen=True)
class SignedIn:
    """Anyone signed in; ``done`` is what they get (ending every login sends you to log in)."""

    done: str = ALLOWED

    def expect(self, case: Case, hides_first: bool) -> str:
        return LOG_IN if case.user is None else self.done


@dataclass(frozen=True)
class Own:
    """The signed-in owner's own thing (a token, a login): anyone else's is not found."""

    owner: str

    def expect(self, case: Case, hides_first: bool) -> str:
        owner_id = case.world.people[self.owner].id
        return _gate(case, hides_first, lambda: ALLOWED if case.user.id == owner_id else HIDDEN)


@dataclass(frozen=True)
class Sees:
    """Whoever may see the community (public: everyone); ``signed_in``: and is signed in."""

    signed_in: bool = False

    def expect(self, case: Case, hides_first: bool) -> str:
        return _gate(case, hides_first, lambda: ALLOWED, login=self.signed_in)


@dataclass(frozen=True)
class PublicOnly:
    """Feed readers carry no login: a members-only community's feed is a 404 to everyone."""

    def expect(self, case: Case, hides_first: bool) -> str:
        return ALLOWED if case.place.community.is_public else HIDDEN


@dataclass(frozen=True)
class Action:
    """A line of ``policy.RULES``. ``author_of`` names what the asker may have written
    (the rule's ``author_too``); ``author_only``: and only its author may."""

    name: str
    author_of: str | None = None
    author_only: bool = False

    def _is_author(self, case: Case) -> bool:
        if self.author_of is None or case.user is None:
            return False
        written = getattr(case.place, self.author_of)
        return written.author_id == case.user.id

    def expect(self, case: Case, hides_first: bool) -> str:
        def decide():
            allowed = case.allows(self.name, is_author=self._is_author(case))
            if self.author_only:
                allowed = allowed and self._is_author(case)
            return ALLOWED if allowed else REFUSED

        return _gate(case, hides_first, decide)


@dataclass(frozen=True)
class AtLeast:
    """A role rank asked directly (``policy.at_least``), not through a named action."""

    role: str

    def expect(self, case: Case, hides_first: bool) -> str:
        allowed = policy.at_least(self.role, case.membership, case.user)
        return _gate(case, hides_first, lambda: ALLOWED if allowed else REFUSED)


@dataclass(frozen=True)
class Party:
    """A line of ``policy.PARTY_RULES`` on the place's exposure check: those who may not
    see the check find nothing (404); those who see it but may not do this are refused."""

    name: str

    def expect(self, case: Case, hides_first: bool) -> str:
        check = case.place.check
        parties = {"checker_id": check.checker_id, "subject_id": check.subject_id}

        def decide():
            if not policy.party_allows("check.see", case.user, **parties):
                return HIDDEN
            return ALLOWED if policy.party_allows(self.name, case.user, **parties) else REFUSED

        return _gate(case, hides_first, decide)


@dataclass(frozen=True)
class OwnCheck:
    """The remind flow's check: who may remind (``exposure.remind``), and then only the
    one who made the check acts on it (anyone else: not found)."""

    def expect(self, case: Case, hides_first: bool) -> str:
        def decide():
            if not case.allows("exposure.remind"):
                return REFUSED
            return ALLOWED if case.user.id == case.place.check.checker_id else HIDDEN

        return _gate(case, hides_first, decide)


@dataclass(frozen=True)
class Reminded:
    """A reminder is answered by the one reminded (while they see its community) only."""

    def expect(self, case: Case, hides_first: bool) -> str:
        to_user_id = case.place.reminder.to_user_id
        return _gate(case, hides_first, lambda: ALLOWED if case.user.id == to_user_id else HIDDEN)


STEWARD_OR_ABOVE = AtLeast(policy.STEWARD)


class Access(Protocol):
    def expect(self, case: Case, hides_first: bool) -> str: ...


# Endpoint (or "METHOD endpoint" where the methods differ) -> what decides who may use it.
ACCESS: dict[str, Access] = {
    "static": Anyone(),
    "forum.index": Anyone(),
    "home.index": Anyone(),  # a member's home reads only their communities: test_home_member
    "forum.member": Anyone(),  # lists only what the viewer may see: tested in test_forum_*
    "search.results": Anyone(),  # results filtered by visibility: test_search_*
    "search.api_search": Anyone(),
    "api.openapi": Anyone(),
    "accounts.login": Anyone(),
    "accounts.logout": Anyone(),
    "accounts.register": Anyone(),
    "password_reset.forgot": Anyone(),
    "password_reset.sent": Anyone(),
    "password_reset.reset_password": Token(),
    "accounts.confirm_email": Token(),
    "accounts.resend_for_expired_link": Token(),
    "digest.unsubscribe": Token(),
    "GET communities.invite": Token(),
    "POST communities.invite": Token(signed_in_only=True),
    "accounts.settings": SignedIn(),
    "accounts.change_password": SignedIn(),
    "accounts.change_email": SignedIn(),
    "accounts.cancel_email_change": SignedIn(),
    "accounts.resend_confirmation": SignedIn(),
    "accounts.sessions": SignedIn(),
    "accounts.end_all_sessions": SignedIn(done=LOG_IN),
    "accounts.end_session": Own("member"),
    "api.tokens": SignedIn(),
    "api.revoke": Own("member"),
    "communities.create": SignedIn(),
    "digest.preferences": SignedIn(),
    "digest.lift_bounce": SignedIn(),
    "digest.preview": SignedIn(),
    "exposure.checks_about_me": SignedIn(),
    "remind.reminders_to_me": SignedIn(),
    "forum.community": Sees(),
    "forum.about": Sees(),
    "newcomers.start": Sees(),
    "forum.feed": PublicOnly(),
    "norms.show": Sees(),
    "norms.versions": Sees(),
    "norms.version": Sees(),
    "norms.diff": Sees(),
    "exposure.coverage": Sees(),  # counts for anyone who sees the norm; the list: stewards
    "api.coverage": Sees(signed_in=True),
    "api.newcomer_path": Sees(),
    "exposure.read": Sees(signed_in=True),
    "exposure.reading_queue": Sees(signed_in=True),
    "responses.history": Sees(signed_in=True),
    "communities.join": Sees(signed_in=True),
    "communities.leave": Sees(signed_in=True),
    # Which moves each role may make is norms.services.TRANSITIONS; a refused move is a
    # message on the norm page, not a 403 (test_norms_pages).
    "norms.change_status": Sees(signed_in=True),
    "communities.invites": Action("community.manage"),
    "communities.revoke_invite": Action("community.manage"),
    "communities.settings": Action("community.manage"),
    "communities.set_role": Action("community.manage-roles"),
    "norms.new": Action("norm.propose"),
    "norms.edit": Action("norm.edit", author_of="norm"),
    "norms.reread_period": Action("norm.set-reread"),
    "responses.respond": Action("norm.respond"),
    "discussion.comments": Sees(),
    "discussion.comment": Sees(),
    "discussion.post": Action("norm.comment"),
    "discussion.edit": Action("norm.comment", author_of="own_comment", author_only=True),
    "discussion.hide": Action("comment.moderate"),
    "discussion.unhide": Action("comment.moderate"),
    "exposure.nudge_members": Action("exposure.nudge"),
    "exposure.check_form": Action("exposure.check"),
    "api.exposure": Action("exposure.check"),
    "remind.choose": Action("exposure.remind"),
    "remind.community_reminders": Action("exposure.see-reminders"),
    "digest.steward_preview": STEWARD_OR_ABOVE,
    "exposure.check_record": Party("check.see"),
    "exposure.reply": Party("check.reply"),
    "remind.checked": OwnCheck(),
    "remind.act": OwnCheck(),
    "remind.reply": Reminded(),
    "account_data.overview": SignedIn(),
    "account_data.download": SignedIn(),
    "account_data.delete": SignedIn(),  # the empty form is sent back: no password
    "notifications.index": SignedIn(),
    "notifications.settings": SignedIn(),
    "notifications.mark_all_read": SignedIn(),
    "notifications.open_notice": Own("member"),
    "notifications.mark_read": Own("member"),
    "notifications.unsubscribe": Token(),
    "notifications.watch": Action("community.watch"),
    "api.list_notifications": SignedIn(),
    "api.read_all_notifications": SignedIn(),
    "api.read_notification": Own("member"),
    "glossary.page": Anyone(),
    "writing.preview": Sees(signed_in=True),
    "writing.suggest_members": Action("community.suggest-members"),
    "reviews.show": Sees(),  # the counts and evidence: tests/test_reviews_privacy.py
    "reviews.answer": Action("review.answer"),
    "reviews.decide": Action("review.decide", author_of="norm"),
    "reviews.norm_period": Action("review.schedule"),
    "reviews.community_period": Action("community.manage"),
    "api.list_reviews": Sees(signed_in=True),
    "api.get_review": Sees(signed_in=True),
    "api.answer_review": Action("review.answer"),
    "records.community": Sees(),  # aggregate counts only: tests/test_records.py
    # Norm counts where the asker sees the community; activity where a fellow member.
    "records.member_list": Anyone(),
    "api.get_community_record": Sees(signed_in=True),
    "api.get_member_record": SignedIn(),
}

# What a route is sent besides its address, per community: the query string of a GET,
# the form of a POST. A route listed here is walked in both communities.
INPUTS: dict[str, Callable[[Place], dict]] = {
    "exposure.check_form": lambda place: {"community": place.community.slug},
    "exposure.reading_queue": lambda place: {"community": place.community.slug},
    "remind.act": lambda place: {"check_id": place.check.id},
    "remind.reply": lambda place: {f"r{place.reminder.id}-reply": "Thank you, noted."},
}

# Routes that change who is in the world go last, in this order, their expectations
# taken from the world as it was; those that end the asker's login get a client each.
LAST = ("communities.join", "communities.leave", "communities.invite")
ENDS_THE_LOGIN = ("accounts.end_all_sessions", "accounts.logout")


def access_of(route: Route) -> Access | None:
    return ACCESS.get(f"{route.method} {route.endpoint}") or ACCESS.get(route.endpoint)


# -- Roles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """``person``: whose rights the expectations are worked out for (None: nobody's);
    ``sign_in``: what the role's browser does first, given (client, world, factory)."""

    person: str | None
    sign_in: Callable[[object, World, Factory], None]


def _signed_in_as(person: str):
    return lambda client, world, _factory: login(client, world.people[person])


def _not_signed_in(_client, _world, _factory) -> None:
    pass


def _signed_in_then_deleted(client, world, factory) -> None:
    person = factory.user("Dora Departed")
    for place in world.places.values():
        factory.member(place.community, person)
    login(client, person)
    delete_account(factory.session, person, Factory.PASSWORD)
    factory.session.commit()


ROLES: dict[str, Role] = {
    "anonymous": Role(None, _not_signed_in),
    "non-member": Role("outsider", _signed_in_as("outsider")),
    "member": Role("member", _signed_in_as("member")),
    "steward": Role("steward", _signed_in_as("steward")),
    "community admin": Role("admin", _signed_in_as("admin")),
    "site admin": Role("site_admin", _signed_in_as("site_admin")),
    # An account deleted while its browser was signed in: that browser's old cookie
    # gets exactly the anonymous answers.
    "deleted": Role(None, _signed_in_then_deleted),
}


# -- The walk --------------------------------------------------------------------------------


@pytest.fixture
def app_overrides() -> dict:
    return {"RATELIMIT_ENABLED": False}  # hundreds of requests a minute, by design


@dataclass(frozen=True)
class Ask:
    """One request of the walk."""

    route: Route
    place: str | None
    url: str
    form: dict

    def __str__(self) -> str:
        return f"{self.route} ({self.place})" if self.place else str(self.route)


def _places(route: Route, world: World) -> list[str | None]:
    """Both communities for a route about one; [None] for a route about none."""
    own = world.own.keys() | ({"token"} if route.endpoint in world.tokens else set())
    about_one = bool(route.arguments - own) or route.endpoint in INPUTS
    return [PUBLIC, MEMBERS_ONLY] if about_one else [None]


def _ask(app, route: Route, world: World, place: str | None) -> Ask:
    values = dict(world.own)
    inputs = {}
    if place is not None:
        values.update(world.places[place].values(world.people))
        inputs = INPUTS.get(route.endpoint, lambda _place: {})(world.places[place])
    if route.endpoint in world.tokens:
        values["token"] = world.tokens[route.endpoint]
    reading = route.method == "GET"
    url = route_url(app, route, values, inputs if reading else None)
    return Ask(route, place, url, {} if reading else inputs)


def _walk_order(route: Route) -> tuple[int, int]:
    if route.endpoint in ENDS_THE_LOGIN:
        return 2, ENDS_THE_LOGIN.index(route.endpoint)
    if route.endpoint in LAST:
        return 1, LAST.index(route.endpoint)
    return 0, 0


def plan(app, session, world: World, role: Role) -> list[tuple[Ask, str]]:
    """Every request of the walk with the answer class the policy gives the role."""
    user = world.people.get(role.person)
    asks = []
    for route in sorted(every_route(app), key=_walk_order):
        for place in _places(route, world):
            membership = world.membership(session, role.person, place) if place else None
            case = Case(user, membership, world.places.get(place), world)
            expected = access_of(route).expect(case, hides_first="slug" in route.arguments)
            asks.append((_ask(app, route, world, place), expected))
    return asks


def answer_class(response) -> str:
    status = response.status_code
    if 300 <= status < 400:
        return LOG_IN if urlsplit(response.headers["Location"]).path == "/login" else ALLOWED
    if status == 401:  # the API asks for credentials instead of redirecting
        return LOG_IN
    if status in (403, 404):
        return str(status)
    if status < 300 or status in (400, 409, 422):  # a page, or a form sent back
        return ALLOWED
    return f"unexpected {status}"


def test_every_route_of_the_url_map_is_in_the_table(app):
    routes = every_route(app)
    missing = sorted(str(route) for route in routes if access_of(route) is None)
    assert missing == [], (
        "Say in ACCESS (tests/test_route_roles.py) what decides who may use these routes "
        f"(a policy action, a party rule, 'signed in', …): {missing}"
    )
    endpoints = {route.endpoint for route in routes}
    assert {key.split()[-1] for key in ACCESS} - endpoints == set()  # no stale entries
    assert set(INPUTS) | set(LAST) | set(ENDS_THE_LOGIN) <= endpoints


@pytest.mark.parametrize("role_name", list(ROLES))
def test_every_route_answers_each_role_as_the_policy_says(app, session, factory, role_name):
    world = build_world(app, session, factory)
    role = ROLES[role_name]
    walk = plan(app, session, world, role)
    assert len(walk) >= 120  # every route, most of them in both communities

    def signed_in_client():
        client = new_client(app, session)
        role.sign_in(client, world, factory)
        return client

    members_only = world.membership(session, role.person, MEMBERS_ONLY)
    outsider = not policy.allows(
        "community.see-members-only", members_only, world.people.get(role.person)
    )
    hidden_words = NAMES[MEMBERS_ONLY].values()
    client = signed_in_client()
    wrong, leaked = {}, {}
    for ask, expected in walk:
        if ask.route.endpoint in ENDS_THE_LOGIN:
            client = signed_in_client()
        response = client.open(ask.url, method=ask.route.method, data=ask.form)
        answer = answer_class(response)
        if answer != expected:
            wrong[str(ask)] = f"expected {expected}, got {answer} ({response.status_code})"
        if outsider and not isinstance(access_of(ask.route), Token):
            page = response.get_data(as_text=True)
            if found := [word for word in hidden_words if word in page]:
                leaked[str(ask)] = found
    assert wrong == {}
    assert leaked == {}  # nothing of a members-only community reaches those outside it
