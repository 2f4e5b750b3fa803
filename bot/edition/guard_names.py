"""Names in a summary that its source does not contain: labs, models, benchmarks, people.

A name is a word a reader takes as a proper noun: CamelCase ("DeepSeek"), an acronym ("SWE"),
a word with a digit and a capital ("GPT-4", "H100") or a capitalised word ("Velmora",
"Westbrook University"), wherever it stands in a sentence. It passes when

* the source says it (any case; hyphen, space or nothing between its parts; plural or
  possessive endings), so the item's own title words always pass — the title is in the source;
* it is generic vocabulary ("Python", "RAG", "Hugging Face"), see ``guard_words``;
* it is an acronym the source spells out ("CoT" for "chain-of-thought");
* it is a derived form whose name part passes: "DPO-style", "LLM-based", "OpenAI's";
* it opens a sentence (or follows a colon, a dash, a bracket or a quote, or labels a number:
  "Table 4") and is an everyday English word: "Models", "Measure", "This". Mid-sentence, a
  capital marks a name, so an everyday word written with one still needs the source ("built
  by Orchard").
"""

from __future__ import annotations

import re

from bot.edition.guard_text import Source, sentences
from bot.edition.guard_words import expands_in, is_common_word, is_generic, source_words

# A word, allowing inner hyphens, apostrophes, "+" and version dots ("Qwen2.5", "C++").
_TOKEN = re.compile(r"[A-Za-z0-9](?:[\w'+]|-(?=\w)|\.(?=\d))*")
# Text right before a word that makes it open a clause, as at a sentence's start.
_OPENER = re.compile(r"(?:^|[:(\[\"'“‘]|\s-|;)\s*$")


def _name_like(token: str) -> bool:
    """Return whether ``token`` looks like a proper noun rather than an ordinary word."""
    if not token[0].isalpha():
        return False
    if token[0].isupper():
        return True
    # "vLLM", "iPhone": a capital after the first letter.
    return any(ch.isupper() for ch in token[1:])


def _title_case(token: str) -> bool:
    """Return whether ``token`` is one capital and then lower case only ("Models", "A")."""
    return token[:1].isupper() and (len(token) == 1 or token[1:].islower())


def _possessive(token: str) -> str:
    return token[:-2] if token.endswith("'s") else token.rstrip("'")


def _acronym_like(token: str) -> bool:
    """Return whether ``token`` is shaped like an acronym: "RAG", "CoT", "LoRA", "LLMs"."""
    letters = token[:-1] if token.endswith("s") else token
    capitals = sum(ch.isupper() for ch in letters)
    return letters.isalpha() and 2 <= len(letters) <= 8 and capitals >= max(2, len(letters) / 2)


class NameChecker:
    """Checks the names of summary texts against one source."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._words = source_words(source.folded)

    def _part_passes(self, part: str) -> bool:
        """Return whether one word (or one piece of a hyphenated word) is supported."""
        return (
            self._source.says(part)
            or is_generic(part)
            or (_acronym_like(part) and expands_in(part, self._words))
        )

    def _token_passes(self, token: str, opens_clause: bool) -> bool:
        """Return whether one name-like token is supported by the source or is common."""
        token = _possessive(token)
        if self._part_passes(token):
            return True
        if opens_clause and _title_case(token) and is_common_word(token):
            return True
        parts = [part for part in token.split("-") if part]
        if len(parts) > 1 and not any(_name_like(part) for part in parts[1:]):
            # "DPO-style", "LLM-based": each piece is a supported name or an everyday word in
            # lower case. A capital after a hyphen marks a name made of its parts ("Fable-Agent",
            # "Zeta-Eval"), which the source must state whole.
            return all(
                self._part_passes(part)
                or (not _name_like(part) and is_common_word(part))
                or (index == 0 and opens_clause and _title_case(part) and is_common_word(part))
                for index, part in enumerate(parts)
            )
        return False

    def problems(self, text: str) -> list[str]:
        """Return each name (a run of adjacent name words) in ``text`` the source lacks."""
        found: list[str] = []
        for sentence in sentences(text):
            group: list[tuple[str, bool]] = []
            previous_end = -1
            for match in _TOKEN.finditer(sentence):
                token = match.group(0)
                adjacent = previous_end >= 0 and sentence[previous_end : match.start()] == " "
                if not _name_like(token):
                    found.extend(self._group_problem(group))
                    group, previous_end = [], -1
                    continue
                if group and not adjacent:
                    found.extend(self._group_problem(group))
                    group = []
                # An everyday word before a number is a label ("Table 4", "Step 2"), like one
                # that opens a sentence.
                opens = _OPENER.search(sentence[: match.start()]) is not None or bool(
                    re.match(r"\s\d", sentence[match.end() :])
                )
                group.append((token, opens))
                previous_end = match.end()
            found.extend(self._group_problem(group))
        return found

    def _group_problem(self, group: list[tuple[str, bool]]) -> list[str]:
        """Return the group as one problem if any of its words is unsupported."""
        if not group:
            return []
        phrase = " ".join(token for token, _ in group)
        if len(group) > 1 and (self._source.says(_possessive(phrase)) or is_generic(phrase)):
            return []
        unsupported = [token for token, opens in group if not self._token_passes(token, opens)]
        if not unsupported:
            return []
        # Report the name as written, without an everyday word that merely opened the sentence.
        while group and group[0][0] not in unsupported and group[0][1]:
            group = group[1:]
        return [_possessive(" ".join(token for token, _ in group))]
