"""Numbers too large for an id column name nothing: 404 or 400, never a database overflow."""

import pytest

from normhub.services import ID_MAX, parse_id

HUGE = "9" * 20


def test_parse_id_accepts_only_column_sized_numbers():
    assert parse_id("42") == 42
    assert parse_id(str(ID_MAX)) == ID_MAX
    assert parse_id(str(ID_MAX + 1)) is None
    assert parse_id(HUGE) is None
    assert parse_id("-1") is None and parse_id("1e3") is None and parse_id(None) is None


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
