"""Riverside Tenants' Committee: a members-only community, minutes and the repair log."""

from __future__ import annotations

from normhub.demo.script import (
    A,
    CommunityScript,
    NormScript,
    Open,
    Respond,
    Revise,
    Say,
    Text,
)

MINUTES_V1 = Text(
    "Record decisions, not who said what, in the minutes",
    "Minutes list what was decided and who will do what, without attributing opinions.",
    """\
Tenants speak more freely at meetings when they know their words won't be quoted back
at them, or passed to the managing agent.

## What we ask

Minutes record decisions, actions and owners. They don't record who argued for what.
If someone wants their objection on record, they can ask for it to be noted by name.
""",
    [
        A("Tenants hold back at meetings when they expect to be quoted."),
        A("Minutes without names are still enough to hold the committee to account."),
        A("Anyone who wants their objection on record will ask for it."),
    ],
    ["minutes", "meetings"],
)

REPAIRS_V1 = Text(
    "Log repair requests before raising them at a meeting",
    "Put a repair in the shared log before bringing it to a committee meeting.",
    """\
The agent's first question is always "when was this reported?". If it's in the log,
we have a date. If it was only mentioned at a meeting, we don't.

## What we ask

Add the repair to the log (flat, what's wrong, since when, photo if you can) before
raising it at a meeting. Grace or Priya will help anyone who can't use the log.
""",
    [
        A("A dated log entry makes the agent act faster than a meeting mention."),
        A("Everyone who needs to can get help adding to the log."),
    ],
    ["repairs"],
)
REPAIRS_V2 = Text(
    REPAIRS_V1.title,
    REPAIRS_V1.summary,
    REPAIRS_V1.body.replace(
        "Grace or Priya will help anyone who can't use the log.",
        "Grace or Priya will help anyone who can't use the log, and there is a paper "
        "copy on the noticeboard by the lifts.",
    ),
    [
        A(REPAIRS_V1.assumptions[0].statement, continues=1),
        A(
            "Everyone who needs to can add to the log, online or on paper.",
            continues=2,
        ),
    ],
    REPAIRS_V1.tags,
)


# ------------------------------------------------------------------------------ scripts

MINUTES = NormScript(
    "priya",
    MINUTES_V1,
    [
        Open("priya"),
        Say(
            "minutes-grace",
            "grace",
            "As someone new: this makes me much more likely to speak at meetings.",
            about=1,
        ),
        Say(
            "minutes-samuel",
            "samuel",
            "Same here. Though I'd want my objection to the service charge noted by name.",
            reply_to="minutes-grace",
        ),
        Respond("hannah", "yes", "endorse", "", {i: ("yes", "agree", "") for i in range(1, 4)}),
        Respond(
            "samuel",
            "yes",
            "endorse",
            "",
            {3: ("yes", "unsure", "Newer tenants might not know they can ask.")},
        ),
        Respond("grace", "yes", "endorse"),
    ],
)

REPAIRS = NormScript(
    "grace",
    REPAIRS_V1,
    [
        Open("grace"),
        Say(
            "repairs-hannah",
            "hannah",
            "Mrs Patel on the ground floor doesn't use the internet at all. How does she "
            "log a repair?",
            about=2,
        ),
        Say(
            "repairs-grace",
            "grace",
            "I'll put a paper copy on the noticeboard by the lifts and copy it across every "
            "Sunday.",
            reply_to="repairs-hannah",
        ),
        Revise(
            "grace",
            REPAIRS_V2,
            "Added a paper copy of the log for people who don't use the online one.",
        ),
        Respond("priya", "yes", "endorse"),
        Respond(
            "samuel",
            "yes",
            "reject",
            "The agent ignores the log as well.",
            {1: ("yes", "disagree", "They ignored three logged leaks last winter.")},
        ),
    ],
)


TENANTS = CommunityScript(
    name="Riverside Tenants' Committee",
    slug="riverside-tenants",
    description=(
        "The tenants' committee of the Riverside estate. Members only: we talk about "
        "individual flats and the managing agent here."
    ),
    visibility="members",
    join_policy="invite",
    creator="priya",
    stewards=["hannah"],
    members=["hannah", "samuel", "grace"],
    norms=[MINUTES, REPAIRS],
)
