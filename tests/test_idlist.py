"""``in_ids``: a list of ids as one bound parameter, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import select

from normhub.accounts.models import User
from normhub.idlist import id_list, in_ids


def test_each_execution_gets_its_own_ids(session, factory):
    """The statement is compiled once and cached; the ids are a parameter of each run."""
    ada, bo, cy = factory.user("Ada"), factory.user("Bo"), factory.user("Cy")
    session.commit()

    def names(ids) -> list[str]:
        query = select(User.display_name).where(in_ids(User.id, ids)).order_by(User.id)
        return list(session.scalars(query))

    assert names([ada.id, cy.id]) == ["Ada", "Cy"]
    assert names([bo.id]) == ["Bo"]
    assert names(iter([cy.id, cy.id, ada.id])) == ["Ada", "Cy"]  # any iterable, repeats once
    assert names([]) == []
    assert names([bo.id + 10_000]) == []


def test_it_is_a_condition_sqlite_can_serve_from_an_index(session):
    compiled = str(select(User.id).where(in_ids(User.id, [1, 2])).compile(session.get_bind()))
    if session.get_bind().dialect.name == "sqlite":
        assert compiled.endswith("users.id IN (SELECT value FROM json_each(?))")
    else:
        assert compiled.endswith(
            "users.id = ANY(CAST((SELECT CAST(%(param_1)s::VARCHAR AS INTEGER[])) AS INTEGER[]))"
        )


def test_a_statement_built_once_takes_its_ids_when_it_runs(session, factory):
    """``id_list``: one statement object, run with a different list of ids each time."""
    ada, bo, cy = factory.user("Ada"), factory.user("Bo"), factory.user("Cy")
    session.commit()
    statement = select(User.display_name).where(in_ids(User.id, id_list("wanted")))
    statement = statement.order_by(User.id)

    def names(ids) -> list[str]:
        return list(session.scalars(statement, {"wanted": ids}))

    assert names([cy.id, ada.id]) == ["Ada", "Cy"]
    assert names([bo.id]) == ["Bo"]
    assert names([]) == []
