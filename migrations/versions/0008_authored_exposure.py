"""authored exposure

Writing a norm, and each revision of it, is the editor's exposure to that
version at the endorsed level: the ledger now records an "authored" event when
a norm is proposed or revised. This backfills one for every existing version
(dated when the version was saved) and rebuilds the summary of each
(editor, norm) pair by replaying its events, oldest first, with the ledger's
rule as it stood then (``_apply_event``, kept here: a migration must not change
when the application's rule does). Downgrading removes them and replays again.

Revision ID: 0008
Revises: 0007
"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

# The exposure levels, lowest first, as the summaries stored them then.
LEVEL_RANK = {
    name: rank
    for rank, name in enumerate(("none", "delivered", "opened", "read", "understood", "endorsed"))
}
READ = LEVEL_RANK["read"]

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

events = sa.table(
    "exposure_events",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("norm_id", sa.Integer),
    sa.column("version_number", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("level", sa.String),
    sa.column("created_at", sa.DateTime),
)
summaries = sa.table(
    "exposure_summaries",
    *(
        sa.column(name, sa.DateTime if name.endswith("_at") else sa.Integer)
        for name in (
            "user_id",
            "norm_id",
            "first_seen_at",
            "last_seen_at",
            "latest_version",
            "material_base",
            "level",
            "level_version",
            "level_at",
            "highest_level",
            "highest_level_version",
            "highest_level_at",
        )
    ),
)
versions = sa.table(
    "norm_versions",
    sa.column("norm_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("editor_id", sa.Integer),
    sa.column("created_at", sa.DateTime),
    sa.column("is_material", sa.Boolean),
)
SUMMARY_FIELDS = [c.name for c in summaries.columns if c.name not in ("user_id", "norm_id")]


def _material_bases(connection, norm_ids: set[int]) -> dict[tuple[int, int], int]:
    """(norm, version number) -> the newest material version at or before it."""
    bases: dict[tuple[int, int], int] = {}
    rows = connection.execute(
        sa.select(versions.c.norm_id, versions.c.number, versions.c.is_material)
        .where(versions.c.norm_id.in_(norm_ids))
        .order_by(versions.c.norm_id, versions.c.number)
    )
    base: dict[int, int] = {}
    for norm_id, number, is_material in rows:
        if is_material or norm_id not in base:
            base[norm_id] = number
        bases[(norm_id, number)] = base[norm_id]
    return bases


def _apply_event(summary, number: int, base: int, level: int, kind: str, at) -> None:
    """Fold one event into a summary: the ledger's rule when this migration was written."""
    summary.last_seen_at = max(summary.last_seen_at or at, at)
    summary.latest_version = max(summary.latest_version or 0, number)
    if level > summary.highest_level or (
        level == summary.highest_level and number > (summary.highest_level_version or 0)
    ):
        summary.highest_level = level
        summary.highest_level_version = number
        summary.highest_level_at = at
    if base > summary.material_base:
        # A newer material family: what was reached on older text no longer counts.
        summary.material_base = base
        summary.level, summary.level_version, summary.level_at = level, number, at
        return
    if base < summary.material_base:
        return
    if kind == "responded":
        # The newest response decides understood/endorsed; reading stays.
        new_level = max(min(summary.level, READ), level)
        if new_level == level:
            summary.level, summary.level_version, summary.level_at = level, number, at
        else:
            summary.level = new_level
    elif level > summary.level or (
        level == summary.level and number > (summary.level_version or 0)
    ):
        summary.level, summary.level_version, summary.level_at = level, number, at


def _rebuild(connection, pairs: set[tuple[int, int]]) -> None:
    """Replay each (user, norm) pair's events into its summary row."""
    bases = _material_bases(connection, {norm_id for _, norm_id in pairs})
    for user_id, norm_id in sorted(pairs):
        history = connection.execute(
            sa.select(events.c.version_number, events.c.kind, events.c.level, events.c.created_at)
            .where(events.c.user_id == user_id, events.c.norm_id == norm_id)
            .order_by(events.c.created_at, events.c.id)
        ).all()
        key = (summaries.c.user_id == user_id) & (summaries.c.norm_id == norm_id)
        connection.execute(summaries.delete().where(key))
        if not history:
            continue
        summary = SimpleNamespace(
            first_seen_at=history[0].created_at,
            last_seen_at=None,
            latest_version=0,
            material_base=0,
            level=0,
            level_version=None,
            level_at=None,
            highest_level=0,
            highest_level_version=None,
            highest_level_at=None,
        )
        for number, kind, level, at in history:
            base = bases.get((norm_id, number), number)
            _apply_event(summary, number, base, LEVEL_RANK[level], kind, at)
        connection.execute(
            summaries.insert().values(
                user_id=user_id,
                norm_id=norm_id,
                **{name: getattr(summary, name) for name in SUMMARY_FIELDS},
            )
        )


def upgrade() -> None:
    connection = op.get_bind()
    recorded = set(
        connection.execute(
            sa.select(events.c.user_id, events.c.norm_id, events.c.version_number).where(
                events.c.kind == "authored"
            )
        ).all()
    )
    written = connection.execute(
        sa.select(versions.c.editor_id, versions.c.norm_id, versions.c.number, versions.c.created_at)
    ).all()
    missing = [row for row in written if (row.editor_id, row.norm_id, row.number) not in recorded]
    if missing:
        connection.execute(
            events.insert(),
            [
                {
                    "user_id": row.editor_id,
                    "norm_id": row.norm_id,
                    "version_number": row.number,
                    "kind": "authored",
                    "level": "endorsed",
                    "created_at": row.created_at,
                }
                for row in missing
            ],
        )
    _rebuild(connection, {(row.editor_id, row.norm_id) for row in missing})


def downgrade() -> None:
    connection = op.get_bind()
    pairs = set(
        connection.execute(
            sa.select(events.c.user_id, events.c.norm_id)
            .where(events.c.kind == "authored")
            .distinct()
        ).all()
    )
    connection.execute(events.delete().where(events.c.kind == "authored"))
    _rebuild(connection, {tuple(pair) for pair in pairs})
