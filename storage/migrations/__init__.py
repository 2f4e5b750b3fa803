"""Alembic migrations of the store (run by storage.db.upgrade)."""
