"""people and courses per chamber; at most one active tool key

People were keyed by (issuer, sub) and courses by (issuer, context id): a launch through a second chamber with
the same issuer moved them. Now both are keyed by chamber as well; existing rows stay in the chamber they have.
Installs hit by concurrent key creation may hold several active keys: the newest stays active, the others stay
published (rotated out) so that no signature made with them breaks.

Revision ID: b7d41c2e9a10
Revises: 9f71e37af57c
Create Date: 2026-12-01 22:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = "b7d41c2e9a10"
down_revision = "9f71e37af57c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint("uq_user_account_issuer_sub", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_user_account_chamber_id_issuer_sub"), ["chamber_id", "issuer", "sub"]
        )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_constraint("uq_course_issuer_context_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_course_chamber_id_issuer_context_id"), ["chamber_id", "issuer", "context_id"]
        )

    conn = op.get_bind()
    newest = conn.execute(
        sa.text("SELECT id FROM tool_key WHERE active ORDER BY created_at DESC, id DESC LIMIT 1")
    ).scalar()
    if newest is not None:
        conn.execute(
            sa.text("UPDATE tool_key SET active = :no WHERE active AND id <> :id"), {"no": False, "id": newest}
        )
    with op.batch_alter_table("tool_key", schema=None) as batch_op:
        batch_op.create_index(
            "uq_tool_key_one_active",
            ["active"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )


def downgrade():
    with op.batch_alter_table("tool_key", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_tool_key_one_active", sqlite_where=sa.text("active"), postgresql_where=sa.text("active")
        )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_course_chamber_id_issuer_context_id"), type_="unique")
        batch_op.create_unique_constraint("uq_course_issuer_context_id", ["issuer", "context_id"])
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_user_account_chamber_id_issuer_sub"), type_="unique")
        batch_op.create_unique_constraint("uq_user_account_issuer_sub", ["issuer", "sub"])
