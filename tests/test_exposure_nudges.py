"""Nudges."""

from __future__ import annotations

import pytest

from normhub.errors import Forbidden
from normhub.exposure.ledger import record_event
from normhub.exposure.models import Nudge
from normhub.exposure.nudges import mark_nudges_delivered, nudge, pending_nudges


def test_nudges(session, factory):
    community = factory.community()
    steward = factory.member(community, role="steward", name="Steward")
    reader = factory.member(community, name="Reader")
    lazy = factory.member(community, name="Lazy")
    norm = factory.norm(community, steward)
    record_event(session, reader, norm, 1, "read")
    session.commit()
    with pytest.raises(Forbidden):
        nudge(session, lazy, norm)
    created = nudge(session, steward, norm)
    session.commit()
    nudged = {n.member_id for n in created}
    assert lazy.id in nudged and reader.id not in nudged
    assert nudge(session, steward, norm) == []  # one pending nudge each is enough
    pending = pending_nudges(session, [lazy.id, reader.id])
    assert [(n.member_id, n.norm_id) for n in pending] == [(lazy.id, norm.id)]
    assert mark_nudges_delivered(session, [pending[0].id]) == 1
    session.commit()
    assert pending_nudges(session, [lazy.id]) == []
    assert session.get(Nudge, pending[0].id).delivered_at is not None
    # After delivery a steward may nudge again, but only about the chosen members.
    again = nudge(session, steward, norm, members=[lazy])
    assert [n.member_id for n in again] == [lazy.id]
