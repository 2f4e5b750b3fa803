"""The installed digestbot's version, from the package metadata (``digestbot --version``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "llm-news-digest"


def package_version() -> str:
    """Return the installed package's version, or "unknown" when run from an uninstalled tree."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"
