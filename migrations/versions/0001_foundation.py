"""foundation

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:40:06.532106
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('join_policy', sa.String(length=16), nullable=False),
    sa.Column('coverage_threshold_pct', sa.Integer(), nullable=False),
    sa.Column('coverage_min_responses', sa.Integer(), nullable=False),
    sa.Column('max_open_norms', sa.Integer(), nullable=True),
    sa.Column('max_open_per_author', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('slug', name=op.f('uq_communities_slug'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_invites_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_invites_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invites')),
    sa.UniqueConstraint('token', name=op.f('uq_invites_token'))
    )
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_memberships_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('community_id', 'user_id', name=op.f('uq_memberships_community_id_user_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('norms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('current_version_number', sa.Integer(), nullable=False),
    sa.Column('last_material_version_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_norms_author_id_users')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_norms_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_norms')),
    sa.UniqueConstraint('community_id', 'slug', name=op.f('uq_norms_community_id_slug'))
    )
    with op.batch_alter_table('norms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_norms_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_norms_community_status', ['community_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_norms_last_activity_at'), ['last_activity_at'], unique=False)

    op.create_table('norm_prerequisites',
    sa.Column('norm_id', sa.Integer(), nullable=False),
    sa.Column('prerequisite_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['norm_id'], ['norms.id'], name=op.f('fk_norm_prerequisites_norm_id_norms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prerequisite_id'], ['norms.id'], name=op.f('fk_norm_prerequisites_prerequisite_id_norms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('norm_id', 'prerequisite_id', name=op.f('pk_norm_prerequisites'))
    )
    op.create_table('norm_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('norm_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_norm_status_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['norm_id'], ['norms.id'], name=op.f('fk_norm_status_changes_norm_id_norms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_norm_status_changes'))
    )
    with op.batch_alter_table('norm_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_norm_status_changes_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_norm_status_changes_norm_id'), ['norm_id'], unique=False)

    op.create_table('norm_tags',
    sa.Column('norm_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['norm_id'], ['norms.id'], name=op.f('fk_norm_tags_norm_id_norms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('norm_id', 'tag', name=op.f('pk_norm_tags'))
    )
    with op.batch_alter_table('norm_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_norm_tags_tag'), ['tag'], unique=False)

    op.create_table('norm_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('norm_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('change_summary', sa.String(length=500), nullable=False),
    sa.Column('is_material', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['editor_id'], ['users.id'], name=op.f('fk_norm_versions_editor_id_users')),
    sa.ForeignKeyConstraint(['norm_id'], ['norms.id'], name=op.f('fk_norm_versions_norm_id_norms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_norm_versions')),
    sa.UniqueConstraint('norm_id', 'number', name=op.f('uq_norm_versions_norm_id_number'))
    )
    op.create_table('assumptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('statement', sa.String(length=300), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['norm_versions.id'], name=op.f('fk_assumptions_version_id_norm_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assumptions')),
    sa.UniqueConstraint('version_id', 'key', name=op.f('uq_assumptions_version_id_key')),
    sa.UniqueConstraint('version_id', 'position', name=op.f('uq_assumptions_version_id_position'))
    )
    # norms <-> norm_versions reference each other: add this side once both exist.
    with op.batch_alter_table('norms', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_norms_current_version', 'norm_versions', ['current_version_id'], ['id']
        )

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('norm_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('assumption_key', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users')),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_comments_hidden_by_id_users')),
    sa.ForeignKeyConstraint(['norm_id'], ['norms.id'], name=op.f('fk_comments_norm_id_norms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['comments.id'], name=op.f('fk_comments_parent_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['norm_versions.id'], name=op.f('fk_comments_version_id_norm_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_comments_norm_created', ['norm_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_parent_id'), ['parent_id'], unique=False)

    op.create_table('responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('norm_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('understood', sa.String(length=8), nullable=False),
    sa.Column('endorsement', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['norm_id'], ['norms.id'], name=op.f('fk_responses_norm_id_norms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_responses_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['norm_versions.id'], name=op.f('fk_responses_version_id_norm_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_norm_user', ['norm_id', 'user_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responses_user_id'), ['user_id'], unique=False)

    op.create_table('assumption_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('assumption_id', sa.Integer(), nullable=False),
    sa.Column('understood', sa.String(length=8), nullable=False),
    sa.Column('agreement', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assumption_id'], ['assumptions.id'], name=op.f('fk_assumption_responses_assumption_id_assumptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_assumption_responses_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assumption_responses'))
    )
    with op.batch_alter_table('assumption_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assumption_responses_assumption_id'), ['assumption_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assumption_responses_response_id'), ['response_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('assumption_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assumption_responses_response_id'))
        batch_op.drop_index(batch_op.f('ix_assumption_responses_assumption_id'))

    op.drop_table('assumption_responses')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responses_user_id'))
        batch_op.drop_index('ix_responses_norm_user')

    op.drop_table('responses')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_parent_id'))
        batch_op.drop_index('ix_comments_norm_created')
        batch_op.drop_index(batch_op.f('ix_comments_author_id'))

    op.drop_table('comments')
    op.drop_table('assumptions')
    with op.batch_alter_table('norms', schema=None) as batch_op:
        batch_op.drop_constraint('fk_norms_current_version', type_='foreignkey')
    op.drop_table('norm_versions')
    with op.batch_alter_table('norm_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_norm_tags_tag'))

    op.drop_table('norm_tags')
    with op.batch_alter_table('norm_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_norm_status_changes_norm_id'))
        batch_op.drop_index(batch_op.f('ix_norm_status_changes_changed_at'))

    op.drop_table('norm_status_changes')
    op.drop_table('norm_prerequisites')
    with op.batch_alter_table('norms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_norms_last_activity_at'))
        batch_op.drop_index('ix_norms_community_status')
        batch_op.drop_index(batch_op.f('ix_norms_author_id'))

    op.drop_table('norms')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_user_id'))

    op.drop_table('memberships')
    op.drop_table('invites')
    op.drop_table('users')
    op.drop_table('communities')
