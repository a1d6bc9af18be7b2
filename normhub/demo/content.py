"""Demo content: a small neighbourhood forum, written as a script of forum events.

Each norm is a list of steps played in order through the real service
functions (see :mod:`normhub.demo.cli`), so versions, responses, exposure
and comments are exactly what members would have produced by hand.

Assumptions are referred to by their position in the version current at that
step; ``A(..., continues=N)`` carries assumption N of the previous version into
a revision (same cross-version key, possibly reworded).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Printed by `flask demo load`; demo accounts are for trying the app out, never production.
DEMO_PASSWORD = "demo-password-123"  # noqa: S105


@dataclass(frozen=True)
class Person:
    handle: str
    display_name: str
    bio: str = ""

    @property
    def email(self) -> str:
        return f"{self.handle}@example.org"


@dataclass(frozen=True)
class A:
    statement: str
    explanation: str = ""
    continues: int | None = None


@dataclass(frozen=True)
class Text:
    title: str
    summary: str
    body: str
    assumptions: list[A]
    tags: list[str] = field(default_factory=list)


# Steps -----------------------------------------------------------------------


@dataclass(frozen=True)
class Open:
    by: str


@dataclass(frozen=True)
class Respond:
    who: str
    understood: str
    endorsement: str
    reason: str = ""
    # assumption position -> (understood, agreement, reason)
    answers: dict[int, tuple[str, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Say:
    """A comment; ``label`` lets later steps reply to, edit or hide it."""

    label: str
    who: str
    body: str
    about: int | None = None  # assumption position in the current version
    reply_to: str | None = None


@dataclass(frozen=True)
class Edit:
    label: str
    body: str


@dataclass(frozen=True)
class Hide:
    label: str
    by: str


@dataclass(frozen=True)
class Revise:
    by: str
    text: Text
    change_summary: str
    material: bool = True


@dataclass(frozen=True)
class Status:
    by: str
    to: str
    note: str = ""


@dataclass(frozen=True)
class NormScript:
    author: str
    text: Text
    steps: list = field(default_factory=list)


@dataclass(frozen=True)
class CommunityScript:
    name: str
    slug: str
    description: str
    visibility: str
    join_policy: str
    creator: str
    stewards: list[str]
    members: list[str]
    norms: list[NormScript]


PEOPLE = [
    Person("mira", "Mira Okafor", "Runs the Saturday garden group. Keeps the key rota."),
    Person(
        "tomasz",
        "Tomasz Wójcik",
        "Steward. Repairs bikes on Wednesdays, reads minutes on Thursdays.",
    ),
    Person("priya", "Priya Raman", "Tenant rep for Block C. Likes a good spreadsheet."),
    Person(
        "jonas", "Jonas Lindqvist", "Volunteer at the repair café. Asks awkward questions, kindly."
    ),
    Person("aisha", "Aisha Bello", "Coordinates the community room bookings."),
    Person(
        "felix", "Felix Marchetti", "Repair café regular. Soldering irons are his love language."
    ),
    Person("hannah", "Hannah Cho", "Reads everything on the bus."),
    Person("samuel", "Samuel Otieno", "Works shifts; skims the forum between them."),
    Person("grace", "Grace Adeyemi", "Block A tenant, new to the committee."),
]

# ----------------------------------------------------------------------------- norm texts

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

FORWARD_BODY_V1 = """\
A few weeks ago a private message about a neighbour's health was forwarded to a group
chat "so people could help". People did want to help. The neighbour was still upset,
and said so.

## What we ask

Before you forward a private message, or post a screenshot of one, ask the person
who wrote it.
"""

FORWARD_BODY_V2 = (
    FORWARD_BODY_V1.rstrip()
    + """

By **private** we mean anything not posted where every member can read it: direct
messages, and also the small group chats.

## What doesn't need asking

Messages that are only logistics (times, keys, who brings the ladder) can be passed
on freely. The norm is about messages with something personal in them.
"""
)

FORWARD_BODY_V3 = FORWARD_BODY_V2.replace(
    "(times, keys, who brings the ladder)",
    "(meeting times, where the key is, who brings the ladder)",
)

FORWARD_BODY_V4 = (
    FORWARD_BODY_V3.rstrip()
    + """

## Reporting harassment

If someone is harassing you in private messages, show them to a steward. You don't
need the sender's permission for that, and stewards will not pass them on further.
"""
)

FORWARD_V1 = Text(
    "Ask before forwarding private messages",
    "Ask the sender before you forward a private message or share a screenshot of it.",
    FORWARD_BODY_V1,
    [
        A("People write differently in private than in public."),
        A("Most senders would say yes if they were asked."),
        A("Forwarding without asking damages trust even when the content is harmless."),
    ],
    ["privacy", "messages"],
)
FORWARD_V2 = Text(
    FORWARD_V1.title,
    "Ask the sender before you forward a private message with anything personal in it; "
    "logistics can be passed on freely.",
    FORWARD_BODY_V2,
    [
        A(FORWARD_V1.assumptions[0].statement, continues=1),
        A(FORWARD_V1.assumptions[1].statement, continues=2),
        A(FORWARD_V1.assumptions[2].statement, continues=3),
        A("Most private messages here are logistics, and passing those on helps everyone."),
    ],
    FORWARD_V1.tags,
)
FORWARD_V3 = Text(
    FORWARD_V2.title,
    FORWARD_V2.summary,
    FORWARD_BODY_V3,
    [A(a.statement, a.explanation, continues=i) for i, a in enumerate(FORWARD_V2.assumptions, 1)],
    FORWARD_V2.tags,
)
FORWARD_V4 = Text(
    FORWARD_V3.title,
    FORWARD_V3.summary,
    FORWARD_BODY_V4,
    [
        A(FORWARD_V3.assumptions[0].statement, continues=1),
        A(
            "Most senders would agree if asked, and the few who would not have a reason "
            "worth respecting.",
            continues=2,
        ),
        A(FORWARD_V3.assumptions[2].statement, continues=3),
        A(FORWARD_V3.assumptions[3].statement, continues=4),
        A(
            "Someone being harassed must be able to show the messages to stewards without "
            "asking the sender.",
        ),
    ],
    FORWARD_V3.tags + ["safety"],
)

NOTICE_BODY_V1 = """\
At the March meeting we changed the key rota. Half of us found out four days later,
when the shed was locked on a Saturday morning. Nobody did anything wrong on purpose:
the change was agreed by the people in the room and written down. But the people who
were not in the room had no chance to read it, let alone object.

## What we ask

A change to a shared rule (the key rota, room bookings, shed hours, anything on this
forum) takes effect no sooner than **one week** after it is announced.

Urgent safety changes are the exception: a steward can make them at once, and must
say why.
"""

NOTICE_BODY_V2 = NOTICE_BODY_V1.replace(
    "takes effect no sooner than **one week** after it is announced.",
    "takes effect no sooner than **seven days after it is posted on this forum**. A\n"
    "meeting announcement alone does not start the clock.",
)

NOTICE_V1 = Text(
    "Give a week's notice before changing shared rules",
    "Changes to shared rules take effect a week after they are announced, except urgent "
    "safety fixes.",
    NOTICE_BODY_V1,
    [
        A("Members need time to read a change before it binds them."),
        A("A week is long enough for most members to notice and read a change."),
        A("Urgent safety changes are rare enough to handle as exceptions."),
    ],
    ["process", "shared-rules"],
)
NOTICE_V2 = Text(
    NOTICE_V1.title,
    "Changes to shared rules take effect seven days after they are posted on the forum, "
    "except urgent safety fixes.",
    NOTICE_BODY_V2,
    [
        A(NOTICE_V1.assumptions[0].statement, continues=1),
        A(
            "Seven days from a forum post is long enough for most members to notice and "
            "read a change.",
            "Counting from the forum post, not the meeting, because not everyone comes to "
            "meetings.",
            continues=2,
        ),
        A(NOTICE_V1.assumptions[2].statement, continues=3),
    ],
    NOTICE_V1.tags,
)

SUMMARY_V1 = Text(
    "Summarise long threads before asking for a decision",
    "Before asking the community to decide something discussed at length, post a short "
    "summary of where the discussion stands.",
    """\
*Still drafting. Comments welcome before I open it.*

Some of our threads run to sixty comments. Asking for a decision at the bottom of one
of those favours whoever had time to read all sixty.

## What I'd like to ask

Whoever asks for a decision posts a summary first: the options on the table, the main
argument for each, and what is still unclear. Five sentences is usually enough.
""",
    [
        A("Long threads favour members with more free time."),
        A("A short summary can be fair to every side of a discussion."),
    ],
    ["forum", "process"],
)

REPLY_ALL_V1 = Text(
    "Reply-all only when everyone needs the answer",
    "On the mailing list, reply to the sender unless the whole list needs your answer.",
    """\
Our mailing list has about eighty people on it. A question like "is the room free on
Thursday?" can produce a dozen reply-all answers, most of them "I don't know either".

## What I'd ask

Reply to the sender. Reply to everyone only if your answer changes what everyone
should do.
""",
    [
        A("Most reply-all messages on the list are not useful to most readers."),
        A("People leave mailing lists when the volume gets too high."),
    ],
    ["mailing-list"],
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

RIVERSIDE_MEMBERS = ["tomasz", "priya", "jonas", "aisha", "felix", "hannah", "samuel"]

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

FORWARD = NormScript(
    "hannah",
    FORWARD_V1,
    [
        Open("hannah"),
        Say(
            "fwd-felix",
            "felix",
            "What counts as private? Direct messages, sure. What about the small group "
            "chat for the Saturday crew?",
        ),
        Say(
            "fwd-hannah",
            "hannah",
            "Good question. I'd say anything not posted where every member can read it.",
            reply_to="fwd-felix",
        ),
        Say(
            "fwd-felix-2",
            "felix",
            "Then the group chat is private. I can live with that, but please write it down.",
            reply_to="fwd-hannah",
        ),
        Respond(
            "felix",
            "partly",
            "undecided",
            "Not sure what counts as private.",
            {1: ("yes", "agree", "")},
        ),
        Revise(
            "hannah",
            FORWARD_V2,
            'Defined "private" (including small group chats) and left pure logistics out '
            "of the norm.",
        ),
        Say(
            "fwd-aisha",
            "aisha",
            'Thank you for the logistics exception. Half my messages are "the room key is '
            "under the blue pot\", and I'm happy for those to travel.",
            about=4,
        ),
        Edit(
            "fwd-aisha",
            "Thank you for the logistics exception. Half my messages are about where the "
            "room key is, and I'm happy for those to travel. (Edited: the key is no longer "
            "under the blue pot.)",
        ),
        Revise(
            "hannah",
            FORWARD_V3,
            "Clearer examples of logistics messages.",
            material=False,
        ),
        Say(
            "fwd-jonas",
            "jonas",
            '"Most would say yes" feels optimistic. Some people would say no just to '
            "avoid an awkward conversation. Does the norm still make sense then?",
            about=2,
        ),
        Say(
            "fwd-hannah-2",
            "hannah",
            "I think it does: if someone says no, that's information. I'll reword the "
            "assumption so it doesn't depend on the yes.",
            reply_to="fwd-jonas",
        ),
        Revise(
            "hannah",
            FORWARD_V4,
            "Added an exception for showing harassment to stewards; reworded assumption 2 "
            "after Jonas's comment.",
        ),
        Say(
            "fwd-tomasz",
            "tomasz",
            "Thank you for adding this. Stewards need to see the messages, and nobody "
            "should have to ask the person harassing them for permission.",
            about=5,
        ),
        Respond(
            "mira",
            "yes",
            "endorse",
            "",
            {i: ("yes", "agree", "") for i in range(1, 6)},
        ),
        Respond("tomasz", "yes", "endorse", "", {5: ("yes", "agree", "")}),
        Respond(
            "jonas",
            "yes",
            "reject",
            "The norm is fine; assumption 2 is still wishful.",
            {2: ("yes", "disagree", "Some refusals are just awkwardness.")},
        ),
        Respond("samuel", "yes", "endorse"),
        Respond(
            "felix",
            "yes",
            "undecided",
            "",
            {
                1: ("yes", "agree", ""),
                4: ("yes", "disagree", "Our group chat is mostly gossip, not logistics."),
            },
        ),
        Respond("priya", "yes", "endorse", "", {2: ("yes", "agree", ""), 5: ("yes", "agree", "")}),
        Respond(
            "aisha",
            "yes",
            "reject",
            "I'd endorse it if assumption 2 were dropped.",
            {2: ("yes", "disagree", "People say no for bad reasons too.")},
        ),
    ],
)

ALL_RIVERSIDE = ["mira", *RIVERSIDE_MEMBERS]

NOTICE = NormScript(
    "tomasz",
    NOTICE_V1,
    [
        Open("tomasz"),
        Say(
            "notice-mira",
            "mira",
            "Is the week counted from the meeting or from the post? After the key rota "
            "change, half of us only found out days later.",
            about=2,
        ),
        Say(
            "notice-tomasz",
            "tomasz",
            "From the post. I'll make that explicit.",
            reply_to="notice-mira",
        ),
        Revise(
            "tomasz",
            NOTICE_V2,
            "The seven days now start when the change is posted on the forum, not at the meeting.",
        ),
        Say(
            "notice-samuel",
            "samuel",
            "Spring planting makes everything feel urgent. Who decides what counts as an "
            "urgent safety change?",
            about=3,
        ),
        Say(
            "notice-tomasz-2",
            "tomasz",
            "A steward, and they have to say why in the post. If that gets abused, we "
            "should revisit this norm.",
            reply_to="notice-samuel",
        ),
        Say(
            "notice-samuel-2",
            "samuel",
            "OK. I'll still grumble about it in April.",
            reply_to="notice-tomasz-2",
        ),
        # Everyone reads and understands the current version before it goes into force.
        *[
            Respond(who, "yes", "endorse", "", {i: ("yes", "agree", "") for i in range(1, 4)})
            for who in ["mira", "tomasz", "priya", "aisha", "hannah"]
        ],
        Respond("jonas", "yes", "endorse", "Seven days from the post is clear."),
        Respond("felix", "yes", "undecided", "", {2: ("yes", "unsure", "")}),
        Respond(
            "samuel",
            "yes",
            "reject",
            "A week is too slow for the garden in spring.",
            {2: ("yes", "disagree", "In April a week is a long time.")},
        ),
        Status(
            "tomasz",
            "in_force",
            "Every member has read and understood version 2; six of eight endorse it.",
        ),
        Say(
            "notice-tomasz-3",
            "tomasz",
            "This is now in force. The next change to the key rota will be the first test.",
        ),
    ],
)

SUMMARY = NormScript(
    "jonas",
    SUMMARY_V1,
    [
        Say(
            "summary-priya",
            "priya",
            "Looking forward to this one. Five sentences feels right. Maybe say who writes "
            "the summary if the person asking for a decision is also one side of the "
            "argument?",
        ),
        Say(
            "summary-jonas",
            "jonas",
            "Good point. Perhaps they write it and someone from the other side checks it.",
            reply_to="summary-priya",
        ),
    ],
)

REPLY_ALL = NormScript(
    "felix",
    REPLY_ALL_V1,
    [
        Open("felix"),
        Respond("hannah", "yes", "endorse"),
        Respond("samuel", "yes", "undecided", "", {1: ("yes", "unsure", "")}),
        Say(
            "replyall-mira",
            "mira",
            "Do we still use the mailing list for anything? Since the forum started I "
            "think it's had three messages.",
        ),
        Say(
            "replyall-felix",
            "felix",
            "You're right. This solves a problem we no longer have. Withdrawing it.",
            reply_to="replyall-mira",
        ),
        Status(
            "felix",
            "withdrawn",
            "The mailing list has gone quiet since the forum started; no longer needed.",
        ),
    ],
)

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

COMMUNITIES = [
    CommunityScript(
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
    ),
    CommunityScript(
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
    ),
]
