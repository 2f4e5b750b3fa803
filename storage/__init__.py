"""Persistence: the only package that knows SQL (SQLAlchemy models, migrations, the store)."""
