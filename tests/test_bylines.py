"""The bylines templates print (normhub.templating): avatar, name and time, escaped and
with every direction control a member's name opens closed, as ``{{ ... }}`` prints text."""

from datetime import datetime
from types import SimpleNamespace

from normhub.templating import avatar_markup, person_markup, time_markup

RLO, PDF = "\u202e", "\u202c"


def member(name="Ada Lovelace", handle="ada", deleted=False):
    return SimpleNamespace(display_name=name, handle=handle, is_deleted=deleted)


def test_a_members_name_links_to_their_page_escaped_and_closed(app):
    with app.test_request_context("/"):
        assert person_markup(member()) == '<a href="/members/ada">Ada Lovelace</a>'
        assert person_markup(member(f'<b>"{RLO}'), "comment-author") == (
            f'<a href="/members/ada" class="comment-author">&lt;b&gt;&#34;{RLO}{PDF}</a>'
        )


def test_a_deleted_account_has_no_page():
    assert person_markup(member("Gone & away", None, True)) == (
        '<span class="former-member">Gone &amp; away</span>'
    )
    assert person_markup(member("Gone", None, True), "comment-author") == (
        '<span class="former-member comment-author">Gone</span>'
    )


def test_an_avatar_shows_initials_in_the_members_colour():
    html = avatar_markup(member(f"{RLO}x Lovelace"), 22)
    assert html.startswith('<svg class="avatar avatar-')
    assert 'width="22" height="22"' in html
    assert f'text-anchor="middle">{RLO}L{PDF}</text></svg>' in html
    assert 'class="avatar avatar-8"' in avatar_markup(member("Gone", None, True))


def test_a_time_says_how_long_ago_with_the_exact_time():
    html = time_markup(datetime(2026, 2, 3, 4, 5, 6, 789))
    assert html.startswith('<time datetime="2026-02-03T04:05:06Z" title="2026-02-03 04:05 UTC">')
    assert html.endswith(" ago</time>")
    assert time_markup(None) == '<time datetime="" title=""></time>'
