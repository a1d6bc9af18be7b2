"""Riverside Commons, the norms that were decided or are close: forwarding, notice, summaries."""

from __future__ import annotations

from normhub.demo.script import A, Edit, NormScript, Open, Respond, Revise, Say, Status, Text

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


# ------------------------------------------------------------------------------ scripts

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
