"""Data subject rights: export and deletion of one person's data, and retention of everyone's."""
