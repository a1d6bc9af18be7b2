"""Exposure: who was shown, opened, read, understood or endorsed which version of a norm.

Levels, in order: none < delivered < opened < read < understood < endorsed.
Events: ``delivered`` (a digest or nudge reached the member), ``opened`` (the
norm page was shown to them), ``read`` (the page reported they reached the end
of the essay, or they pressed "I have read this"), ``responded`` (they recorded
a response: understood=yes gives "understood", understood=yes with endorse gives
"endorsed", understood=partly/no gives "read": they engaged but did not
understand; a member who understood and rejects is at "understood"), and
``authored`` (they wrote that version, the first or a revision: "endorsed").
A delivery or a glance never lowers what someone read: the answer leads with
the deepest engagement, and measures what changed from the newest version
they read, responded to or wrote.

Staleness. Every version belongs to the "material family" of its newest
material ancestor. Exposure counts for the current version only if it was on
the current family: a minor revision keeps exposure, a material one makes it
stale until the member engages again.

"Fully exposed" to a norm means: an active member who has *read* (or better)
a version of the current material family, and the same, transitively, for
every open or in-force norm it builds on.

Visibility rules:

* An exposure check can be made by active members of the norm's community,
  about anyone; a subject who is not a member gets the answer "not a member"
  (or "left this community on …").
* Individual exposure and responses are visible to fellow active members of
  the community; aggregate coverage counts are visible to whoever can see the
  norm; the list of members not yet exposed, and nudging them, is for stewards.
  That list never holds the norm's author or the steward looking at it.
* Nothing of a members-only community leaks to non-members: every page and API
  answer about it is a 404 for them.
* Every check is recorded whole, and the person checked sees every check made
  about them (who asked, about which norm, when, and the answer they got), and
  may reply once; the record's page is for its checker, the person checked
  and site admins. Someone checked from a members-only community they are not
  in learns only that a check happened, and when.
* A reminder (or a share) is seen by the person reminded and by the stewards
  of the community; someone outside a members-only community by now sees only
  that it exists.

The modules, each importing only those below it: ``levels`` (the ladder and
the statuses that count), ``ledger`` (recording events and read reports),
``report`` (a person's standing and its answer in words, no database),
``facts`` (the statements today's standing is read from), ``history`` (the
same, replayed as of an earlier instant), ``standing`` (the one definition of
where a person stands, for one person and as SQL for lists), ``check`` (the
check and its record), ``told`` (a record told to the person checked),
``check_records`` (who may see a record, the checks about someone, replies),
``coverage`` (a community's counts), ``gate`` (the
in-force gate and the attention budget), ``reading_queue`` and ``nudges``;
``bulk`` records a digest's deliveries in a fixed number of statements;
``reminders`` reminds someone of a norm after a check, with only the action
the check found fair (``emails`` sends the share, ``remind_views`` and
``remind_forms`` are its pages).
"""
