"""Text plumbing shared by the faithfulness guard's checks: sentences, words, source look-ups.

The guard compares a short summary with a longer source, so every check needs the same few
things: both texts cut into sentences, words reduced to a comparable form, and a way to ask
"does the source say this phrase?" that ignores case, hyphenation and plural endings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

# Typographic dashes and quotes are folded to ASCII so "16–hour" and "16-hour" compare equal.
_FOLD = str.maketrans({"‐": "-", "‑": "-", "–": "-", "—": " - ", "’": "'", "‘": "'"})
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”')\]]*\s+|\n+|\s*•\s*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")


def listed(text: str) -> frozenset[str]:
    """Return the whitespace-separated words of ``text``: a word list written as prose."""
    return frozenset(text.split())


def fold(text: str) -> str:
    """Return ``text`` NFKC-normalised with typographic dashes and quotes made ASCII."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def sentences(text: str) -> list[str]:
    """Split ``text`` into sentences (also at line breaks and bullets); drop empty ones."""
    return [part.strip() for part in _SENTENCE_END.split(fold(text)) if part and part.strip()]


def words(text: str) -> list[str]:
    """Return the words of ``text`` in order, lower-cased, hyphenated words kept whole."""
    return [word.lower() for word in _WORD.findall(text)]


def singular(word: str) -> str:
    """Return a rough singular of a lower-case English word ("tasks" -> "task").

    Good enough to compare a summary's nouns with its source's; it need not be grammatical.
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stem(word: str) -> str:
    """Return a crude stem for matching inflections ("reduces", "reduced" -> "reduc")."""
    word = singular(word.lower())
    for suffix in ("ing", "ed", "es", "e", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Return a case-insensitive pattern for ``phrase`` as whole words, plural/possessive ok.

    Parts may be joined by a space, a hyphen, an underscore or nothing in the text searched, so
    "Zeta-Eval" finds "zeta eval" and "ZetaEval"; "LLM" finds "LLMs" but "RAG" never "storage".
    """
    parts = [re.escape(part) for part in re.split(r"[\s_-]+", phrase.lower()) if part]
    body = r"[\s_-]*".join(parts)
    return re.compile(rf"(?<![a-z0-9]){body}(?:s|es|'s)?(?![a-z0-9])")


@dataclass
class Source:
    """A source text prepared once for the many look-ups a check makes."""

    text: str
    _found: dict[str, bool] = field(default_factory=dict, repr=False)

    @cached_property
    def folded(self) -> str:
        """The text with dashes and quotes folded, in its own case."""
        return fold(self.text)

    @cached_property
    def lower(self) -> str:
        """The folded text in lower case: what phrase look-ups search."""
        return self.folded.lower()

    @cached_property
    def sentences(self) -> list[str]:
        """The source's sentences, folded."""
        return sentences(self.text)

    @cached_property
    def stems(self) -> frozenset[str]:
        """Every word stem the source uses."""
        return frozenset(stem(word) for word in words(self.folded))

    def says(self, phrase: str) -> bool:
        """Return whether the source contains ``phrase`` as whole words (see phrase_pattern)."""
        key = phrase.lower()
        if key not in self._found:
            self._found[key] = bool(phrase_pattern(key).search(self.lower))
        return self._found[key]
