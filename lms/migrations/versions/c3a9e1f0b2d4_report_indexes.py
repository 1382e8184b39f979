"""indexes for the dashboards' grouped reports (item progress per person and module, first self-check attempts)

Revision ID: c3a9e1f0b2d4
Revises: 8eebd5af4a84
Create Date: 2026-12-02 00:40:00
"""

from alembic import op


revision = "c3a9e1f0b2d4"
down_revision = "8eebd5af4a84"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("item_progress", schema=None) as batch_op:
        batch_op.create_index(
            "ix_item_progress_user_module",
            ["user_id", "module_id"],
            unique=False,
            postgresql_include=["item_id", "completed_at"],
        )
        batch_op.create_index(
            "ix_item_progress_module_user",
            ["module_id", "user_id"],
            unique=False,
            postgresql_include=["item_id", "completed_at", "first_viewed_at"],
        )
    with op.batch_alter_table("quiz_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_quiz_attempt_item_user", ["item_id", "user_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("quiz_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_attempt_item_user")
    with op.batch_alter_table("item_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_item_progress_module_user")
        batch_op.drop_index("ix_item_progress_user_module")
