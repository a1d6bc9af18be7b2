"""Address state: what one email learned about an address holds for every other."""

from __future__ import annotations

from sqlalchemy import select

from normhub.accounts.models import User
from normhub.mail import addresses
from normhub.mail.models import EmailAddressState


def states(session):
    return {
        row.address: (row.status, row.reason) for row in session.scalars(select(EmailAddressState))
    }


def test_a_suppressed_address_is_not_deliverable_and_others_are(session):
    addresses.suppress(session, "gone@example.org", "complained")
    session.commit()
    assert not addresses.is_deliverable(session, "gone@example.org")
    assert addresses.is_deliverable(session, "here@example.org")
    assert states(session) == {"gone@example.org": ("suppressed", "complained")}
    # a suppression is not a bounce: the owner cannot lift it from the settings page
    assert addresses.bounce_of(session, "gone@example.org") is None
    addresses.lift_bounce(session, "gone@example.org")
    session.commit()
    assert not addresses.is_deliverable(session, "gone@example.org")


def test_a_bounce_is_recorded_once_per_address_and_can_be_lifted(session):
    addresses.record_bounce(session, "ann@example.org", "550 no such mailbox")
    assert addresses.bounce_of(session, "ann@example.org").reason == "550 no such mailbox"
    addresses.record_bounce(session, "ann@example.org", "550 still gone " + "x" * 2000)
    session.commit()
    (status, reason) = states(session)["ann@example.org"]
    assert status == "bounced" and reason.startswith("550 still gone") and len(reason) == 1000
    # the copy loaded before the second bounce was brought up to date
    assert addresses.bounce_of(session, "ann@example.org").reason == reason
    addresses.lift_bounce(session, "ann@example.org")
    session.commit()
    assert states(session) == {}
    assert addresses.is_deliverable(session, "ann@example.org")


def test_undeliverable_answers_for_many_addresses_in_one_query(session, factory):
    ann, bob = factory.user("Ann"), factory.user("Bob")
    addresses.record_bounce(session, bob.email, "550")
    session.commit()
    rows = session.execute(
        select(User.email, addresses.undeliverable(User.email)).order_by(User.id)
    ).all()
    assert [tuple(row) for row in rows] == [(ann.email, False), (bob.email, True)]
