"""docs/privacy.md lists every table and column: a column added without saying what it holds fails here."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from lms.core.extensions import db

INVENTORY = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


def test_every_column_is_in_the_inventory(app: Flask) -> None:
    text = INVENTORY.read_text(encoding="utf-8")
    with app.app_context():
        missing = [
            f"{table.name}.{column.name}"
            for table in db.metadata.sorted_tables
            for column in table.columns
            if f"`{table.name}.{column.name}`" not in text
        ]
        tables = [t.name for t in db.metadata.sorted_tables if f"| `{t.name}` |" not in text]
    assert missing == [] and tables == [], "add them to docs/privacy.md: " + ", ".join(missing + tables)
