"""The anonymous page cache: whole pages for visitors who are not logged in.

A forum is read far more than it is written, and most reads are by visitors,
who all see the same page. So the HTML of a visitor's page is kept and served
again until something it shows changes (``serving``). Each page records the
tags it was built from (``norm:12``, ``community:3``, ...: ``tags``); a commit
bumps the version of every tag its writes touch; a kept page is served only
while all its tags are at the versions it was built at. Pages and versions
live in this process's memory (the versions in a SQLite file every process of
the machine shares) or in Redis (``stores``).
"""
