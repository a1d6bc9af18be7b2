"""Riverside Commons, the norms still under discussion: statistics, borrowing tools, versions."""

from __future__ import annotations

from normhub.demo.script import A, Hide, NormScript, Open, Respond, Revise, Say, Text

STATS_BODY_V1 = """\
## Why this came up

During the bike-lane discussion, "40 people complained about the new layout" went
round the forum for a week before anyone asked: forty out of how many? The answer
was forty out of roughly 1,200 people who answered the council's survey. That is
still forty people worth listening to, but it is a very different picture from the
one most of us had in our heads.

Nobody was being dishonest. A count on its own simply invites each reader to
supply their own base, and we all supply different ones.

## What we ask

When you quote a number about a group of people (residents, members, cyclists,
renters), also say **what it is out of**. "40 of about 1,200 survey answers" rather
than "40 people".

## What this is not

It is not a ban on numbers in casual conversation, and nobody needs a statistics
degree. If you don't know the base, say that you don't: that is useful too.
"""

STATS_BODY_V2 = STATS_BODY_V1.replace(
    "## What this is not",
    """\
Also say **where the figure comes from**, in a few words or a link: "council survey,
March" is enough. A base without a source can't be checked either.

## What this is not""",
)

STATS_BODY_V3 = (
    STATS_BODY_V2.replace("roughly 1,200", "about 1,150")
    .replace("40 of about 1,200", "40 of about 1,150")
    .rstrip()
    + """

## An example you can copy

> 40 of about 1,150 people who answered the council's bike-lane survey (March)
> said the new layout made their trip worse. Source: the survey summary linked
> from the council's transport page.
"""
)

STATS_A1 = A(
    "A count without its base routinely misleads readers, even when nobody intends it.",
    "Readers fill in a base of their own, and different readers fill in different ones.",
)
STATS_A2_V1 = A(
    "Most of us cannot look up the base ourselves in the time we spend reading a post.",
)
STATS_A3_V1 = A(
    "Asking for denominators will not put people off sharing numbers.",
)

STATS_V1 = Text(
    "Quote statistics about a group with their denominators",
    "When you quote a number about a group of people, say what it is out of.",
    STATS_BODY_V1,
    [STATS_A1, STATS_A2_V1, STATS_A3_V1],
    ["evidence", "statistics", "forum"],
)
STATS_V2 = Text(
    STATS_V1.title,
    "When you quote a number about a group of people, say what it is out of and where "
    "it comes from.",
    STATS_BODY_V2,
    [
        A(STATS_A1.statement, STATS_A1.explanation, continues=1),
        A(
            "Most of us cannot find the base ourselves in the time we spend reading a post.",
            "Especially on a phone, and especially when the source is a long PDF.",
            continues=2,
        ),
        A("Naming where a figure comes from matters as much as giving its base."),
        A(
            "If a few people post fewer numbers because of this, that cost is smaller than "
            "the cost of numbers that mislead.",
            "Reworded after Jonas pointed out that some people will indeed post fewer.",
            continues=3,
        ),
    ],
    STATS_V1.tags,
)
STATS_V3 = Text(
    STATS_V2.title,
    STATS_V2.summary,
    STATS_BODY_V3,
    [A(a.statement, a.explanation, continues=i) for i, a in enumerate(STATS_V2.assumptions, 1)],
    STATS_V2.tags,
)

TAKE_BODY_V1 = """\
The community room and the tool shed are shared by two groups: the Saturday garden
group and the Wednesday repair café. Each group buys some of its own supplies, and
each group has, at some point, found its supplies gone.

We all know how that feels from our own side. This norm asks us to remember it from
the other side too.

## What we ask

Don't borrow the other group's supplies without asking, even "just for an hour". If
you would be annoyed to find the repair café using the garden's hose connectors,
don't take the repair café's solder.

Asking can be as simple as a message in the shed chat.
"""

TAKE_BODY_V2 = (
    TAKE_BODY_V1.replace(
        "Asking can be as simple as a message in the shed chat.",
        "Asking can be as simple as a message in the shed chat. If nobody from the other "
        "group answers during your session, leave a note in the shed saying what you took "
        "and when it will be back.",
    ).rstrip()
    + """

## Emergencies

A burst pipe or an injury is not the moment to wait for permission. Take what you
need, and tell the other group afterwards.
"""
)

TAKE_V1 = Text(
    "Don't take from the other group either",
    "Don't borrow the other group's supplies without asking, just as you'd want them "
    "not to borrow yours.",
    TAKE_BODY_V1,
    [
        A("Both groups are equally annoyed when their supplies go missing."),
        A("Asking first costs less than the friction caused by not asking."),
        A("A message in the shed chat counts as asking."),
    ],
    ["shared-space", "tool-shed", "fairness"],
)
TAKE_V2 = Text(
    TAKE_V1.title,
    TAKE_V1.summary,
    TAKE_BODY_V2,
    [
        A(TAKE_V1.assumptions[0].statement, continues=1),
        A(TAKE_V1.assumptions[1].statement, continues=2),
        A(
            "A message in the shed chat, plus a note in the shed if nobody answers during "
            "your session, counts as asking.",
            continues=3,
        ),
        A("In a real emergency it is fine to take first and tell the other group afterwards."),
    ],
    TAKE_V1.tags,
)

VERSION_BODY = """\
Norms here change. When we argue about what a norm says, it helps a lot to be arguing
about the same text.

## What we ask

When you quote or paraphrase a norm, say which version you mean: "version 2 of *Give
a week's notice*" rather than "the notice rule". Every norm page shows its version
number next to the title, and older versions stay readable.

If you are replying to someone who quoted an older version, it is kind to point out
what changed since.
"""

VERSION_V1 = Text(
    "Name the version you are citing",
    "When you quote or paraphrase a norm, say which version you mean.",
    VERSION_BODY,
    [
        A("People argue past each other when they are reading different versions of a norm."),
        A("Finding a norm's version number is easy enough that asking for it is no burden."),
    ],
    ["forum", "citations"],
)
VERSION_V2 = Text(
    VERSION_V1.title,
    VERSION_V1.summary,
    VERSION_BODY.replace(
        "Every norm page shows its version\nnumber next to the title",
        "Every norm page shows its version\nnumber next to the title (and the *Versions* "
        "link lists all of them)",
    ),
    [A(a.statement, a.explanation, continues=i) for i, a in enumerate(VERSION_V1.assumptions, 1)],
    VERSION_V1.tags,
)


# ------------------------------------------------------------------------------ scripts

STATS = NormScript(
    "mira",
    STATS_V1,
    [
        Open("mira"),
        Say(
            "stats-jonas",
            "jonas",
            "I'd gently push back on this one. When I tried to find the base for the "
            "parking figures last year it took me an evening. Some people will just stop "
            "posting numbers, and I'm not sure that's a loss we want.",
            about=3,
        ),
        Say(
            "stats-mira",
            "mira",
            "Fair. You're probably right that some will post fewer. I'd still rather have "
            "fewer numbers we can trust, but that is a different claim from the one I "
            "wrote. I'll reword it.",
            reply_to="stats-jonas",
        ),
        Respond(
            "jonas",
            "yes",
            "reject",
            "I like the intent, but assumption 3 is simply not true.",
            {1: ("yes", "agree", ""), 3: ("yes", "disagree", "People will post fewer numbers.")},
        ),
        Revise(
            "mira",
            STATS_V2,
            "Added: say where a figure comes from. Reworded assumption 3 (now 4) after "
            "Jonas's point that some people will post fewer numbers.",
        ),
        Say(
            "stats-jonas-2",
            "jonas",
            "That reworded version I can live with.",
            reply_to="stats-mira",
        ),
        Say(
            "stats-felix",
            "felix",
            "Most figures here arrive as links. Checking the base is one tap. Isn't the "
            "real problem that nobody taps?",
            about=2,
        ),
        Say(
            "stats-priya",
            "priya",
            "One tap to a forty-page PDF, in my experience. The base is usually on page 31.",
            reply_to="stats-felix",
        ),
        Say(
            "stats-felix-2",
            "felix",
            "Ha. Point taken for PDFs. For news articles I stand by it.",
            reply_to="stats-priya",
        ),
        Say(
            "stats-hannah",
            "hannah",
            "Also: plenty of us read the forum on a phone on the bus. Be kind to the bus readers.",
            reply_to="stats-felix",
        ),
        Say(
            "stats-aisha",
            "aisha",
            "Could the essay end with an example of a good citation? Something people can "
            "copy without thinking about it.",
        ),
        Say(
            "stats-samuel-rude",
            "samuel",
            "Typical. Someone turns a survey argument into a rulebook, and the rest of us "
            "with actual jobs get to follow it.",
        ),
        Hide("stats-samuel-rude", "tomasz"),
        Say(
            "stats-samuel",
            "samuel",
            "Trying that again, more politely. My worry is the cost for people who post in "
            "a hurry between shifts. A rule that mostly binds the busy ones isn't neutral.",
            about=4,
        ),
        Say(
            "stats-tomasz",
            "tomasz",
            "Thanks, Samuel. I hid your earlier comment because it was about a person "
            "rather than the proposal. This one is a fair point and worth answering.",
            reply_to="stats-samuel",
        ),
        Say(
            "stats-mira-2",
            "mira",
            "Nobody will be told off for a number without a base. The idea is that the "
            "next person asks for it, and that asking is normal rather than rude.",
            reply_to="stats-samuel",
        ),
        Revise(
            "mira",
            STATS_V3,
            "Corrected the survey figure (about 1,150 answers, not 1,200) and added an "
            "example citation, as Aisha suggested.",
            material=False,
        ),
        Say("stats-mira-3", "mira", "Added one at the end of version 3.", reply_to="stats-aisha"),
        Respond(
            "priya",
            "yes",
            "endorse",
            "",
            {i: ("yes", "agree", "") for i in range(1, 5)},
        ),
        Respond(
            "aisha",
            "yes",
            "endorse",
            "The example makes it easy.",
            {1: ("yes", "agree", ""), 2: ("yes", "agree", ""), 3: ("yes", "agree", "")},
        ),
        Respond(
            "felix",
            "yes",
            "undecided",
            "",
            {
                1: ("yes", "agree", ""),
                2: ("yes", "disagree", "For linked articles, checking is quick."),
                3: ("yes", "agree", ""),
                4: ("partly", "unsure", ""),
            },
        ),
        Respond(
            "samuel",
            "yes",
            "reject",
            "It asks the most of the people with the least time.",
            {
                2: ("yes", "disagree", "We could check, we just don't bother."),
                4: ("yes", "disagree", "The cost falls on shift workers."),
            },
        ),
        Respond(
            "hannah",
            "yes",
            "endorse",
            "",
            {
                1: ("yes", "agree", ""),
                2: ("yes", "agree", "Bus reader here."),
                4: ("yes", "unsure", ""),
            },
        ),
        Respond(
            "jonas",
            "yes",
            "undecided",
            "Better than version 1. Still not convinced about assumption 2.",
            {2: ("yes", "disagree", "Often the base is right there in the article.")},
        ),
    ],
)

TAKE = NormScript(
    "aisha",
    TAKE_V1,
    [
        Open("aisha"),
        Say(
            "take-felix",
            "felix",
            "From the repair café side: yes please. We lost two soldering irons to "
            '"temporary" garden use last spring.',
        ),
        Say(
            "take-mira",
            "mira",
            "And we lost the long hose to a repair café bike wash. I think that's rather "
            "the point of the title.",
            reply_to="take-felix",
        ),
        Say(
            "take-felix-2",
            "felix",
            "Fair. Consider the hose a lesson learned on both sides.",
            reply_to="take-mira",
        ),
        Say(
            "take-hannah",
            "hannah",
            "Asking in the chat doesn't work when the Saturday group realises at 9am that "
            "the hose connector is missing and nobody from the café is awake.",
            about=3,
        ),
        Say(
            "take-tomasz",
            "tomasz",
            "Would this work: ask in the chat, and if nobody answers during your session, "
            "leave a note in the shed saying what you took and when it'll be back?",
            reply_to="take-hannah",
        ),
        Say("take-hannah-2", "hannah", "Yes, that I could endorse.", reply_to="take-tomasz"),
        Respond("felix", "yes", "endorse", "", {1: ("yes", "agree", ""), 2: ("yes", "agree", "")}),
        Revise(
            "aisha",
            TAKE_V2,
            "Asking now includes leaving a note if nobody answers (thanks Tomasz and "
            "Hannah); added an emergency exception.",
        ),
        Say(
            "take-jonas",
            "jonas",
            "Who decides what counts as an emergency? A burst pipe, sure. A missing "
            "spanner before a repair session with a queue of people waiting?",
            about=4,
        ),
        Say(
            "take-aisha",
            "aisha",
            "A queue is not an emergency, in my book. A flood or an injury is.",
            reply_to="take-jonas",
        ),
        Respond(
            "felix",
            "yes",
            "endorse",
            "",
            {i: ("yes", "agree", "") for i in range(1, 5)},
        ),
        Respond(
            "hannah",
            "yes",
            "endorse",
            "The note in the shed fixes my problem.",
            {3: ("yes", "agree", "")},
        ),
        Respond(
            "jonas",
            "partly",
            "undecided",
            "I'd like the emergency part spelled out.",
            {4: ("partly", "unsure", "What counts as an emergency?")},
        ),
        Respond(
            "mira",
            "yes",
            "endorse",
            "",
            {1: ("yes", "agree", ""), 2: ("yes", "agree", "")},
        ),
        Respond(
            "samuel",
            "yes",
            "reject",
            "We'll end up with a shed full of notes and still no hose.",
            {2: ("yes", "disagree", "Asking is slow when nobody answers.")},
        ),
    ],
)

VERSION = NormScript(
    "priya",
    VERSION_V1,
    [
        Open("priya"),
        Say(
            "version-jonas",
            "jonas",
            "Has this actually happened yet? I'm not against it, I just haven't seen the "
            "confusion myself.",
            about=1,
        ),
        Say(
            "version-priya",
            "priya",
            "Twice, in the forwarding discussion: Felix was answering version 1 while "
            "Hannah was quoting version 3.",
            reply_to="version-jonas",
        ),
        Say(
            "version-felix",
            "felix",
            "Guilty. I had the old tab open.",
            reply_to="version-priya",
        ),
        Revise(
            "priya",
            VERSION_V2,
            "Mentioned the Versions link; no change to what is asked.",
            material=False,
        ),
        Respond("mira", "yes", "endorse", "", {1: ("yes", "agree", ""), 2: ("yes", "agree", "")}),
        Respond("tomasz", "yes", "endorse"),
        Respond(
            "jonas",
            "yes",
            "undecided",
            "",
            {1: ("yes", "unsure", "Happens, but rarely."), 2: ("yes", "agree", "")},
        ),
        Respond("aisha", "yes", "endorse"),
    ],
)
