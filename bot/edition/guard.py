"""The faithfulness guard: what a written summary states that its source does not support.

A summary (the model's, or an editor's rewrite) may only state numbers and names its source
contains; `unsupported_claims` lists the ones it cannot find, and the summarizer rewrites or
falls back to the offline text rather than publish them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.domain import Item

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*\s?%?")
_NAME = re.compile(
    r"\b(?:[A-Z][a-z]*[A-Z][\w-]*|[A-Z]{2,}[\w-]*|[A-Za-z]+-\d[\w.-]*|[A-Z][a-z]+\d[\w-]*)"
)
_CAPITALISED = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}(?:[- ][A-Z][a-z]+)*")
_COMMON_NAMES = frozenset(
    {"AI", "LLM", "LLMs", "API", "APIs", "GPU", "GPUs", "CPU", "I", "OK", "JSON", "SQL", "UI"}
)
SOURCE_CHARS = 3000


def unsupported_claims(texts: Iterable[str], source: str) -> list[str]:
    """Return numbers and names stated in ``texts`` that ``source`` does not contain.

    Numbers of two or more digits and percentages count; so do names: CamelCase, acronyms,
    model-like tokens ("GPT-4") and capitalised words in mid-sentence.
    """
    haystack = source.lower()
    missing: list[str] = []
    for text in texts:
        for number in _NUMBER.findall(text):
            digits = number.replace(" ", "").rstrip("%")
            if (
                len(re.sub(r"\D", "", digits)) >= 2 or number.strip().endswith("%")
            ) and digits.lower() not in haystack:
                missing.append(number.strip())
        for name in [*_NAME.findall(text), *_CAPITALISED.findall(text)]:
            if name not in _COMMON_NAMES and name.lower() not in haystack:
                missing.append(name)
    return list(dict.fromkeys(missing))


def source_text(item: Item) -> str:
    """Return what a summary may draw on: title, authors, text and HF's own summary."""
    content = item.content
    parts = [content.title, ", ".join(content.authors), content.summary[:SOURCE_CHARS]]
    hf_summary = content.data.get("hf_summary")
    if isinstance(hf_summary, str):
        parts.append(hf_summary)
    return "\n".join(part for part in parts if part)
