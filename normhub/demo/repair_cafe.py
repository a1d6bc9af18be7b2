"""Riverside Repair Café: the demo's exposure stories.

Two norms come into force here, one building on the other, and then people
join, glance, read, answer or leave, so that the exposure check gives every
one of its answers for someone. :data:`EXPOSURE_TRIES` says whom to check, and
``flask demo load`` prints it; tests/test_demo.py checks that each answer holds.
"""

from __future__ import annotations

from normhub.demo.script import (
    A,
    BuildsOn,
    CommunityScript,
    DigestOff,
    Glance,
    Join,
    Leave,
    NormScript,
    Open,
    Read,
    Respond,
    ReviewAnswer,
    ReviewDecided,
    ReviewOpens,
    Revise,
    Say,
    Status,
    Text,
)

IRONS_V1 = Text(
    "Unplug the soldering irons before you leave",
    "Whoever leaves the repair café last switches off and unplugs every soldering iron, "
    "and puts it back in its stand.",
    """\
## Why

In October an iron was left on over a weekend. Nothing caught fire, but the stand
was scorched and the bench still smells of it.

## What we ask

Before you leave, look at the irons' bench. If you are the last one out, switch off
and unplug each iron and put it in its stand to cool. If someone else is staying,
tell them you are going.
""",
    [
        A("An iron left on is a real fire risk, not just a waste of power."),
        A(
            "The last person out can always tell who is last.",
            "We are rarely more than six, in one room.",
        ),
    ],
    ["safety", "repair-cafe"],
)

IRONS_V2 = Text(
    IRONS_V1.title,
    IRONS_V1.summary,
    IRONS_V1.body.replace("tell them you are going.", "tell them that you are leaving."),
    [A(a.statement, a.explanation, continues=i) for i, a in enumerate(IRONS_V1.assumptions, 1)],
    IRONS_V1.tags,
)

LOG_V1 = Text(
    "Write down every repair you hand back",
    "When you hand a repaired item back, write it in the café's repair log.",
    """\
## Why

People come back asking what was done to their kettle, and nobody remembers.

## What we ask

When you hand something back, write one line in the log: the item, what was wrong,
what you did.
""",
    [
        A("A line in the log is enough to answer most questions later."),
        A("Everyone who repairs things can find the log."),
    ],
    ["repair-cafe"],
)

LOG_V2 = Text(
    LOG_V1.title,
    "When you hand a repaired item back, write it in the café's repair log, and say "
    "whether it was mains powered and left the bench unplugged.",
    LOG_V1.body.rstrip()
    + """

For anything that plugs into the mains, also tick "unplugged and cool" once it is off
the bench: the irons rule applies to what we repair too.
""",
    [
        A(LOG_V1.assumptions[0].statement, continues=1),
        A(
            "Everyone who repairs things can find the log, on the shelf by the door.",
            continues=2,
        ),
        A("Ticking one box does not slow a busy session down."),
    ],
    LOG_V1.tags,
)

IRONS = NormScript(
    "felix",
    IRONS_V1,
    [
        Open("felix"),
        *[
            Respond(who, "yes", "endorse", "", {1: ("yes", "agree", ""), 2: ("yes", "agree", "")})
            for who in ["jonas", "tomasz", "aisha", "samuel"]
        ],
        Status("jonas", "in_force", "Everyone at the café has read and endorsed it."),
        # Only wording: everyone's answer to version 1 stands, and the page says so.
        Revise("felix", IRONS_V2, "Fixed the wording of the last sentence.", material=False),
        # Its review: the irons were off every time, but the last one out could not
        # always tell they were last (the assumption the author stated out loud failed).
        ReviewOpens(),
        ReviewAnswer(
            "jonas",
            "held",
            "Every iron was cold and in its stand on each Monday check.",
            {
                1: ("held", ""),
                2: (
                    "failed",
                    "Twice two of us left together, each thinking the other was staying.",
                ),
            },
        ),
        ReviewAnswer(
            "aisha",
            "held",
            "No iron was left on since October.",
            {2: ("failed", "On busy days people leave through the back door unseen.")},
        ),
        ReviewAnswer("tomasz", "held", "", {1: ("held", ""), 2: ("unclear", "")}),
        ReviewAnswer(
            "samuel",
            "unclear",
            "I was rarely there at closing.",
            {2: ("failed", "I left once without knowing I was last.")},
        ),
        ReviewDecided(
            "jonas",
            "kept",
            "The irons are off: the norm works. The last one out checks the bench rather "
            "than trusting who they think is still there.",
        ),
    ],
)

LOG = NormScript(
    "felix",
    LOG_V1,
    [
        Open("felix"),
        Read("aisha"),
        Say(
            "log-aisha",
            "aisha",
            "Can we also note whether it was a mains item? The irons rule should cover "
            "what we fix, not only our own tools.",
        ),
        Say("log-felix", "felix", "Good idea. I'll add it.", reply_to="log-aisha"),
        Revise(
            "felix",
            LOG_V2,
            'Mains items get an "unplugged and cool" tick, after Aisha\'s point; the log '
            "now sits on the shelf by the door.",
        ),
        BuildsOn("felix", [IRONS_V1.title]),
        # Mira joins after the irons rule came into force, and never reads it.
        Join("mira"),
        Respond("jonas", "yes", "endorse", "", {i: ("yes", "agree", "") for i in range(1, 4)}),
        Respond("tomasz", "yes", "endorse"),
        Respond(
            "samuel",
            "yes",
            "reject",
            "On a busy Saturday nobody will stop to tick a box.",
            {3: ("yes", "disagree", "A queue of ten people says otherwise.")},
        ),
        Respond("mira", "yes", "endorse", "", {1: ("yes", "agree", "")}),
        Status("jonas", "in_force", "Five of six members understood version 2."),
        # After it came into force: newcomers at each step, and one who moved away.
        Join("priya"),
        DigestOff("priya"),  # so a nudge will not reach her: the coverage page says so
        Join("hannah"),
        Glance("hannah"),
        Join("grace"),
        Read("grace"),
        Leave("tomasz"),
    ],
)

REPAIR_CAFE = CommunityScript(
    name="Riverside Repair Café",
    slug="repair-cafe",
    description=(
        "The Wednesday repair café in the community room: bring a broken thing, leave "
        "with a fixed one (usually). Anyone can read; volunteers join."
    ),
    visibility="public",
    join_policy="open",
    creator="felix",
    stewards=["jonas"],
    members=["jonas", "tomasz", "aisha", "samuel"],
    norms=[IRONS, LOG],
)

# (who, the norm's title, the check's recommendation): each answer the check can give.
EXPOSURE_TRIES = [
    ("tomasz", LOG_V1.title, "not_member"),  # he left the café after it came into force
    ("priya", LOG_V1.title, "share_norm"),
    ("aisha", LOG_V1.title, "share_changes"),
    ("hannah", LOG_V1.title, "remind"),
    ("grace", LOG_V1.title, "ask_understanding"),
    ("samuel", LOG_V1.title, "discuss_assumptions"),
    ("mira", LOG_V1.title, "unmet_prerequisites"),
    ("jonas", LOG_V1.title, "fair_to_hold"),
]
