"""Demo content: a small neighbourhood forum, written as a script of forum events.

The pieces: :mod:`~normhub.demo.script` (the shapes a story is written in),
:mod:`~normhub.demo.people`, and one module per community or group of norms.
Here they are put together in the order ``flask demo load`` plays them.
"""

from __future__ import annotations

from normhub.demo import repair_cafe
from normhub.demo.commons_decisions import FORWARD, NOTICE, REPLY_ALL, SUMMARY
from normhub.demo.commons_discussions import STATS, STATS_V1, TAKE, VERSION
from normhub.demo.people import DEMO_PASSWORD, PEOPLE
from normhub.demo.script import CommunityScript
from normhub.demo.tenants import TENANTS

__all__ = ["COMMUNITIES", "DEMO_PASSWORD", "EXPOSURE_TRIES", "NEWCOMER", "PEOPLE"]

RIVERSIDE_MEMBERS = ["tomasz", "priya", "jonas", "aisha", "felix", "hannah", "samuel"]

RIVERSIDE = CommunityScript(
    name="Riverside Commons",
    slug="riverside-commons",
    description=(
        "The neighbourhood forum for the Riverside estate: the Saturday garden group, "
        "the Wednesday repair café, the community room and the shared tool shed. "
        "Anyone can read; residents are welcome to join."
    ),
    visibility="public",
    join_policy="open",
    creator="mira",
    stewards=["tomasz"],
    members=RIVERSIDE_MEMBERS,
    norms=[STATS, TAKE, VERSION, FORWARD, NOTICE, SUMMARY, REPLY_ALL],
)

COMMUNITIES = [RIVERSIDE, TENANTS, repair_cafe.REPAIR_CAFE]
NEWCOMER = repair_cafe.NEWCOMER

# (who, the norm's title, what the exposure check recommends): one of each answer.
EXPOSURE_TRIES = [
    ("jonas", STATS_V1.title, "not_in_force"),  # still open for discussion
    *repair_cafe.EXPOSURE_TRIES,
]
