"""Prompt texts, each a Markdown file in this package, versioned by the hash of its content.

A summary cached under one prompt version is never reused once the prompt's text changes,
because the version is derived from the text itself rather than kept by hand.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class Prompt:
    """One prompt: its name, its text and the version derived from that text."""

    name: str
    text: str
    version: str


def load(name: str) -> Prompt:
    """Return the prompt ``name`` (the file ``prompts/<name>.md``).

    Raises `FileNotFoundError` naming the prompt when there is no such file.
    """
    resource = resources.files(__name__).joinpath(f"{name}.md")
    if not resource.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} in the prompts package")
    text = resource.read_text(encoding="utf-8")
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Prompt(name=name, text=text, version=version)
