"""coverage tallies

How many active members stand at each (norm, material base, level, responded),
kept by the database itself so that coverage is read from a few rows per norm
instead of a row per exposed member or response (normhub.exposure.tallies).
"Responded": the member responded to the text of the summary's material base,
which needs exposure_summaries.responded_base, the newest material base among
the versions they responded to (kept by the ledger). Triggers on
exposure_summaries and memberships keep the tallies whoever writes: the
ledger, the digest's bulk deliveries, joining and leaving, account deletion,
bulk loaders.

SQLite serialises writers, so its row triggers add to one row per key (a
unique index and an upsert). PostgreSQL's statement triggers append one
aggregated change per key and statement instead, so concurrent writers never
wait on a shared counter row; a periodic job folds the appended rows together.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

# This migration's number and the one it follows, on one line: renumbering it when
# another branch took the number is this line (and the file's name).
revision, down_revision = "0026", "0025"
branch_labels = None
depends_on = None

COLUMNS = "norm_id, material_base, level, responded, members"
KEY = "norm_id, material_base, level, responded"


def responded(row: str) -> str:
    return f"CASE WHEN {row}.responded_base = {row}.material_base THEN 1 ELSE 0 END"


# A summary row counts when it reached some level and its member is active in
# the norm's community.
SQLITE_ACTIVE = """EXISTS (
    SELECT 1 FROM norms n JOIN memberships m ON m.community_id = n.community_id
    WHERE n.id = {row}.norm_id AND m.user_id = {row}.user_id AND m.left_at IS NULL)"""

SQLITE_ADD = (
    f"INSERT INTO coverage_tallies ({COLUMNS}) {{select}} "
    f"ON CONFLICT ({KEY}) "
    "DO UPDATE SET members = members + excluded.members;"
)

# A member's summaries on the norms of one community, as tally changes.
SQLITE_MEMBER_ROWS = f"""SELECT s.norm_id, s.material_base, s.level, {responded("s")}, {{sign}}
    FROM exposure_summaries s JOIN norms n ON n.id = s.norm_id
    WHERE n.community_id = {{row}}.community_id AND s.user_id = {{row}}.user_id AND s.level > 0"""


def _sqlite_triggers() -> list[str]:
    def add(select: str) -> str:
        return SQLITE_ADD.format(select=select)

    def own(row: str, sign: int) -> str:
        return add(
            f"SELECT {row}.norm_id, {row}.material_base, {row}.level, {responded(row)}, {sign} "
            f"WHERE {row}.level > 0"
        )

    return [
        f"""CREATE TRIGGER coverage_summary_inserted AFTER INSERT ON exposure_summaries
        WHEN NEW.level > 0 AND {SQLITE_ACTIVE.format(row="NEW")}
        BEGIN {own("NEW", 1)} END""",
        f"""CREATE TRIGGER coverage_summary_updated
        AFTER UPDATE OF level, material_base, responded_base ON exposure_summaries
        WHEN (OLD.level <> NEW.level OR OLD.material_base <> NEW.material_base
                OR OLD.responded_base IS NOT NEW.responded_base)
            AND {SQLITE_ACTIVE.format(row="NEW")}
        BEGIN {own("OLD", -1)} {own("NEW", 1)} END""",
        f"""CREATE TRIGGER coverage_summary_deleted AFTER DELETE ON exposure_summaries
        WHEN OLD.level > 0 AND {SQLITE_ACTIVE.format(row="OLD")}
        BEGIN {own("OLD", -1)} END""",
        f"""CREATE TRIGGER coverage_member_joined AFTER INSERT ON memberships
        WHEN NEW.left_at IS NULL
        BEGIN {add(SQLITE_MEMBER_ROWS.format(row="NEW", sign=1))} END""",
        f"""CREATE TRIGGER coverage_member_left AFTER UPDATE OF left_at ON memberships
        WHEN OLD.left_at IS NULL AND NEW.left_at IS NOT NULL
        BEGIN {add(SQLITE_MEMBER_ROWS.format(row="NEW", sign=-1))} END""",
        f"""CREATE TRIGGER coverage_member_returned AFTER UPDATE OF left_at ON memberships
        WHEN OLD.left_at IS NOT NULL AND NEW.left_at IS NULL
        BEGIN {add(SQLITE_MEMBER_ROWS.format(row="NEW", sign=1))} END""",
        f"""CREATE TRIGGER coverage_member_deleted AFTER DELETE ON memberships
        WHEN OLD.left_at IS NULL
        BEGIN {add(SQLITE_MEMBER_ROWS.format(row="OLD", sign=-1))} END""",
        """CREATE TRIGGER coverage_norm_deleted AFTER DELETE ON norms
        BEGIN DELETE FROM coverage_tallies WHERE norm_id = OLD.id; END""",
    ]


# PostgreSQL: statement triggers read the changed rows from transition tables
# and append one row per key with the net change.
PG_ACTIVE_JOIN = """JOIN norms n ON n.id = c.norm_id
    JOIN memberships m ON m.community_id = n.community_id AND m.user_id = c.user_id
        AND m.left_at IS NULL"""

PG_APPEND = f"""INSERT INTO coverage_tallies ({COLUMNS})
    SELECT c.norm_id, c.material_base, c.level, c.responded, sum(c.change)
    FROM ({{changes}}) AS c
    {{join}}
    WHERE c.level > 0
    GROUP BY c.norm_id, c.material_base, c.level, c.responded
    HAVING sum(c.change) <> 0"""  # noqa: S608 (no input)

# A summary's key and its change, from a transition table.
PG_ROWS = f"SELECT user_id, norm_id, material_base, level, {responded('r')} AS responded, "

PG_SUMMARY_FUNCTIONS = {
    "coverage_summaries_inserted": PG_APPEND.format(
        changes=PG_ROWS + "1 AS change FROM new_rows r", join=PG_ACTIVE_JOIN
    ),
    "coverage_summaries_deleted": PG_APPEND.format(
        changes=PG_ROWS + "-1 AS change FROM old_rows r", join=PG_ACTIVE_JOIN
    ),
    # A row whose level and base stayed the same adds -1 and +1 to one key: no change.
    # (Joining old_rows to new_rows instead made a bulk delivery four times slower:
    # transition tables have no index.)
    "coverage_summaries_updated": PG_APPEND.format(
        changes=PG_ROWS
        + "-1 AS change FROM old_rows r UNION ALL "
        + PG_ROWS
        + "1 FROM new_rows r",
        join=PG_ACTIVE_JOIN,
    ),
}

# Joining, leaving, returning: each changed membership's summaries in its community.
PG_MEMBER_JOIN = """JOIN norms n ON n.community_id = c.community_id
    JOIN exposure_summaries s ON s.norm_id = n.id AND s.user_id = c.user_id AND s.level > 0"""

PG_MEMBER_APPEND = f"""INSERT INTO coverage_tallies ({COLUMNS})
    SELECT s.norm_id, s.material_base, s.level, {responded("s")}, sum(c.change)
    FROM ({{changes}}) AS c
    {PG_MEMBER_JOIN}
    GROUP BY s.norm_id, s.material_base, s.level, 4 HAVING sum(c.change) <> 0"""  # noqa: S608 (no input)

PG_MEMBER_FUNCTIONS = {
    "coverage_members_inserted": PG_MEMBER_APPEND.format(
        changes="SELECT community_id, user_id, 1 AS change FROM new_rows WHERE left_at IS NULL"
    ),
    "coverage_members_deleted": PG_MEMBER_APPEND.format(
        changes="SELECT community_id, user_id, -1 AS change FROM old_rows WHERE left_at IS NULL"
    ),
    "coverage_members_updated": PG_MEMBER_APPEND.format(
        changes="""SELECT w.community_id, w.user_id,
                CASE WHEN w.left_at IS NULL THEN 1 ELSE -1 END AS change
            FROM old_rows o JOIN new_rows w USING (id)
            WHERE (o.left_at IS NULL) <> (w.left_at IS NULL)"""
    ),
}

PG_TRANSITIONS = {
    "inserted": ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
    "deleted": ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
    "updated": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
}


def _postgres_statements() -> list[str]:
    statements = []
    for table, functions in (
        ("exposure_summaries", PG_SUMMARY_FUNCTIONS),
        ("memberships", PG_MEMBER_FUNCTIONS),
    ):
        for name, body in functions.items():
            event, transition = PG_TRANSITIONS[name.rsplit("_", 1)[1]]
            statements.append(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body}; RETURN NULL; END $$"
            )
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} {transition} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    statements.append(
        "CREATE FUNCTION coverage_norm_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM coverage_tallies WHERE norm_id = OLD.id; RETURN NULL; END $$"
    )
    statements.append(
        "CREATE TRIGGER coverage_norm_deleted AFTER DELETE ON norms "
        "FOR EACH ROW EXECUTE FUNCTION coverage_norm_deleted()"
    )
    return statements


def _trigger_names(dialect: str) -> list[tuple[str, str]]:
    if dialect == "postgresql":
        names = [
            (name, table)
            for table, functions in (
                ("exposure_summaries", PG_SUMMARY_FUNCTIONS),
                ("memberships", PG_MEMBER_FUNCTIONS),
            )
            for name in functions
        ]
    else:
        names = [
            (name, "exposure_summaries")
            for name in ("coverage_summary_inserted", "coverage_summary_updated")
        ]
        names += [("coverage_summary_deleted", "exposure_summaries")]
        names += [
            (f"coverage_member_{what}", "memberships")
            for what in ("joined", "left", "returned", "deleted")
        ]
    return [*names, ("coverage_norm_deleted", "norms")]


# The newest material base each member responded to, for the rows already there
# (also normhub.exposure.tallies.fill_responded_bases, for bulk loaders).
RESPONDED_BASES = """UPDATE exposure_summaries SET responded_base = (
    SELECT coalesce(max(m.number), newest.number) FROM (
        SELECT max(v.number) AS number FROM responses r
        JOIN norm_versions v ON v.id = r.version_id
        WHERE r.norm_id = exposure_summaries.norm_id
            AND r.user_id = exposure_summaries.user_id) AS newest
    LEFT JOIN norm_versions m ON m.norm_id = exposure_summaries.norm_id
        AND m.is_material AND m.number <= newest.number
    GROUP BY newest.number)
WHERE EXISTS (SELECT 1 FROM responses r WHERE r.norm_id = exposure_summaries.norm_id
    AND r.user_id = exposure_summaries.user_id)"""

# What the tallies hold for the rows already there (also normhub.exposure.tallies' recount).
BACKFILL = f"""INSERT INTO coverage_tallies ({COLUMNS})
    SELECT s.norm_id, s.material_base, s.level, {responded("s")}, count(*)
    FROM exposure_summaries s
    JOIN norms n ON n.id = s.norm_id
    JOIN memberships m ON m.community_id = n.community_id AND m.user_id = s.user_id
        AND m.left_at IS NULL
    WHERE s.level > 0
    GROUP BY s.norm_id, s.material_base, s.level, 4"""  # noqa: S608 (no input)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("exposure_summaries", sa.Column("responded_base", sa.Integer(), nullable=True))
    op.execute(RESPONDED_BASES)
    op.create_table(
        "coverage_tallies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("norm_id", sa.Integer(), nullable=False),
        sa.Column("material_base", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("responded", sa.SmallInteger(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
    )
    # The same key, unique where one row per key is kept (see the models).
    op.create_index(
        "ix_coverage_tallies_key" if dialect == "postgresql" else "ux_coverage_tallies_key",
        "coverage_tallies",
        ["norm_id", "material_base", "level", "responded"],
        unique=dialect != "postgresql",
    )
    for statement in _postgres_statements() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table in _trigger_names(dialect):
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("coverage_tallies")
    # A plain DROP COLUMN: a batch copy of the table would cascade-delete what hangs off it.
    op.drop_column("exposure_summaries", "responded_base")
