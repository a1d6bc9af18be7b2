"""Numbers too large for an id column, or not spelled in ASCII digits, name nothing:
404 or 400, never a database overflow or a 500."""

import pytest

from normhub.ids import ID_MAX, parse_id

HUGE = "9" * 20


def test_parse_id_accepts_only_column_sized_numbers():
    assert parse_id("42") == 42
    assert parse_id(str(ID_MAX)) == ID_MAX
    assert parse_id(str(ID_MAX + 1)) is None
    assert parse_id(HUGE) is None
    assert parse_id("-1") is None and parse_id("1e3") is None and parse_id(None) is None
    # Digits to str.isdigit() that int() refuses (or reads as another number).
    assert parse_id("²") is None and parse_id("١٢") is None


@pytest.mark.parametrize(
    "path, status",
    [
        ("/c/{c}/norms/" + HUGE, 404),
        ("/c/{c}/norms/{n}/v/" + HUGE, 404),
        ("/c/{c}/norms/{n}/diff?from=1&to=" + HUGE, 400),
        ("/members/" + HUGE, 404),
        ("/c/{c}/comments/" + HUGE + "/edit", 404),
    ],
)
def test_oversized_numbers_in_urls(client, factory, login_as, path, status):
    community = factory.community()
    norm = factory.norm(community)
    login_as(norm.author)
    response = client.get(path.format(c=community.slug, n=norm.slug))
    assert response.status_code == status


@pytest.mark.parametrize("number", ["²", "١٢"])
@pytest.mark.parametrize(
    "path",
    [
        "/c/{c}/norms/{x}",
        "/api/v1/communities/{c}/norms/{n}/exposure/{x}",
        "/api/v1/communities/{c}/norms/{x}/exposure/{m}",
    ],
)
def test_non_ascii_digits_in_urls_are_404(client, factory, login_as, path, number):
    community = factory.community()
    norm = factory.norm(community)
    login_as(norm.author)
    url = path.format(c=community.slug, n=norm.slug, m=norm.author.id, x=number)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("number", ["²", "١٢", HUGE])
def test_the_check_form_names_nobody_with_odd_numbers(client, factory, login_as, number):
    community = factory.community()
    norm = factory.norm(community)
    login_as(norm.author)
    data = {"community": community.slug, "norm": norm.slug, "member": number}
    assert client.post("/exposure/check", data=data).status_code == 404
    assert client.get(f"/exposure/checks/{number}").status_code == 404
