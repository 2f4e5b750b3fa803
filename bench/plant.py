"""Plant fabrications into real summary texts, deterministically, for the faithfulness bench.

Each plant changes one real text (a "why" paragraph or a takeaway) in one way its source does
not support, of one of four kinds:

* ``figure``: a number or its unit changed ("16%" -> "17%", "16%" -> "16 hours");
* ``name``: a name replaced by one from another item, or by an invented one;
* ``comparison``: a comparative claim added ("It outperforms all prior methods.") to a text
  whose source makes no such claim, or "beats X" where the source only says "comparable to X";
* ``hedge``: a hedge the source makes ("may", "up to") dropped from a summary that carried it,
  or a hedged source sentence added to the summary without its hedge.

Plants are made by simple text rules here, independent of the guard's own parsing, and each is
checked to be a real fabrication: the new figure or name does not occur in the source. What
counts as a name is the one thing shared with the guard: words its vocabulary treats as generic
("API", "LLMs") or as everyday English ("Neural") are neither replaced nor used as replacements,
since the guard is specified to let them pass.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bot.edition.guard_words import is_common_word, is_generic

KINDS = ("figure", "name", "comparison", "hedge")
SEED = 20260413

_FIGURE = re.compile(
    r"(?<![\w.-])(\d+(?:\.\d+)?)(%|x\b|×|\s(?:hours?|days?|weeks?|minutes?|GPUs|tasks|tokens"
    r"|languages|models|benchmarks|points|samples|examples|agents|steps|times)\b)?"
)
_UNIT_SWAPS = ("%", " hours", " days", "x", " GPUs", " languages", " weeks", " tokens")
_NAME = re.compile(r"\b(?:[A-Z][a-z]+[A-Z]\w*|[A-Z]{2,}\w*|[A-Z]\w*-\w+|[A-Z][a-z]{2,})\b")
_SYLLABLES = ("ka", "ve", "lo", "tri", "zen", "mor", "qua", "dex", "ri", "sol", "nym", "bra")
_COMPARISONS = (
    ("It outperforms all prior methods.", "superior"),
    ("It beats the state of the art.", "sota"),
    ("The approach surpasses existing systems by a wide margin.", "superior"),
    ("It is the first method to do this.", "first"),
    ("Results are better than every baseline.", "superior"),
    ("It sets a new state-of-the-art on the main benchmark.", "sota"),
    ("It achieves the best results reported so far.", "sota"),
    ("This makes it SOTA among open models.", "sota"),
    ("It outperforms GPT-4 on reasoning.", "superior"),
)
_SUPPORT = {
    "superior": re.compile(
        r"outperform|surpass|beat|better|superior|state-of-the-art|state of the art|sota|best"
        r"|exceed|higher|faster|stronger|lower|than|leading|improv\w* (?:over|upon)|gains? over",
        re.I,
    ),
    "sota": re.compile(
        r"state-of-the-art|state of the art|sota|best|outperform|surpass|beat|superior|leading"
        r"|better|exceed|higher|than|record|top",
        re.I,
    ),
    "first": re.compile(r"first|pioneer|our knowledge|never before", re.I),
}
_PARITY = re.compile(
    r"(?:comparable to|on par with|matches|matching|competitive with) ([A-Z][\w.-]+)"
)
_MODAL = re.compile(r"\b(may|might|could) ([a-z]+)\b")
_UPPER = re.compile(r"\b(up to|as much as) (?=\$?\d)")


@dataclass(frozen=True, slots=True)
class Plant:
    """One planted fabrication: the changed text, its original and what was done."""

    kind: str
    item: int
    original: str
    planted: str
    change: str


def _third_person(verb: str) -> str:
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _absent(value: str, source: str) -> bool:
    """Return whether the number ``value`` never occurs in ``source``."""
    return re.search(rf"(?<![\d.]){re.escape(value)}(?![\d]|\.\d)", source) is None


def _format_like(value: float, original: str) -> str:
    decimals = len(original.split(".")[1]) if "." in original else 0
    return f"{value:.{decimals}f}"


def _figure_plants(index: int, text: str, source: str, rng: random.Random) -> list[Plant]:
    plants: list[Plant] = []
    for match in _FIGURE.finditer(text):
        number, unit = match.group(1), match.group(2) or ""
        value = float(number)
        if value < 10 and not unit:
            continue  # a bare single digit is not a figure the guard is asked to check
        candidates = {value + step for step in (1, 2, 3, 5, 7, 10, 12, 20)}
        candidates |= {value * 2, value * 3, value * 10, value / 2, max(value - 1, 0.5)}
        candidates |= {max(value - 3, 0.5), max(value - 5, 0.5)}
        if "." in number:
            candidates.add(value + 0.4)
        if len(number) >= 2 and number.isdigit() and number[::-1] != number:
            candidates.add(float(number[::-1]))
        for new in sorted(candidates):
            written = _format_like(new, number)
            if written != number and _absent(written, source):
                planted = text[: match.start(1)] + written + text[match.end(1) :]
                plants.append(Plant("figure", index, text, planted, f"{number} -> {written}"))
        swaps = [each for each in _UNIT_SWAPS if each.strip() != unit.strip()]
        for new_unit in swaps if unit else []:
            changed = f"{number}{new_unit}"
            if changed.lower() in source.lower():
                continue
            if unit.strip() in ("%", "points") and new_unit.strip() in ("%", "points"):
                continue  # the guard deliberately treats these as one unit
            planted = text[: match.start()] + changed + text[match.end() :]
            plants.append(Plant("figure", index, text, planted, f"{match.group(0)} -> {changed}"))
    return plants


def _names(text: str, source: str) -> list[str]:
    """Return the names of ``text``: capitalised words the source writes with a capital too."""
    return [
        name
        for name in dict.fromkeys(_NAME.findall(text))
        if not is_generic(name)
        and not (name[1:].islower() and is_common_word(name))
        and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", source)
        and not re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", source)
    ]


def _invented(rng: random.Random) -> str:
    name = "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()
    return name if rng.random() < 0.6 else f"{name}-{rng.randint(2, 9)}"


def _name_plants(
    index: int, text: str, source: str, others: list[str], rng: random.Random
) -> list[Plant]:
    plants: list[Plant] = []
    for name in _names(text, source):
        foreign = [each for each in others if each.lower() not in source.lower()]
        picks = rng.sample(foreign, min(20, len(foreign))) + [_invented(rng) for _ in range(12)]
        for new in picks:
            if new.lower() in source.lower():
                continue
            planted = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", new, text, count=1)
            plants.append(Plant("name", index, text, planted, f"{name} -> {new}"))
    # A name at the start of a sentence: "This framework ..." -> "<Name>'s framework ...".
    opener = re.match(r"(This|The|These|Its|It) ", text)
    if opener:
        foreign = [each for each in others if each.lower() not in source.lower()]
        for new in [*rng.sample(foreign, min(4, len(foreign))), _invented(rng), _invented(rng)]:
            planted = f"{new}'s {text[opener.end() :]}"
            plants.append(Plant("name", index, text, planted, f"{opener.group(1)} -> {new}'s"))
    return plants


def _comparison_plants(index: int, text: str, source: str) -> list[Plant]:
    plants: list[Plant] = []
    for sentence, family in _COMPARISONS:
        if not _SUPPORT[family].search(source):
            plants.append(Plant("comparison", index, text, f"{text} {sentence}", sentence))
    for rival in dict.fromkeys(_PARITY.findall(source)):
        claim = f"It beats {rival}."
        plants.append(Plant("comparison", index, text, f"{text} {claim}", claim))
    return plants


def _hedge_plants(index: int, text: str, source: str) -> list[Plant]:
    plants: list[Plant] = []
    for match in _MODAL.finditer(text):
        if re.search(rf"\b{match.group(1)} {match.group(2)}\b", source):
            flat = _third_person(match.group(2))
            planted = text[: match.start()] + flat + text[match.end() :]
            plants.append(Plant("hedge", index, text, planted, f"dropped '{match.group(1)}'"))
    for match in _UPPER.finditer(text):
        planted = text[: match.start()] + text[match.end() :]
        plants.append(Plant("hedge", index, text, planted, f"dropped '{match.group(1)}'"))
    for sentence in re.split(r"(?<=[.!?])\s+|\n", source):
        modal, upper = _MODAL.search(sentence), _UPPER.search(sentence)
        if upper:
            flat = sentence[: upper.start()] + sentence[upper.end() :]
        elif modal and modal.group(2) not in ("be", "have", "not"):
            flat = sentence[: modal.start()] + _third_person(modal.group(2))
            flat += sentence[modal.end() :]
        else:
            continue
        hedge = (upper or modal).group(1)  # type: ignore[union-attr]
        change = f"added a source sentence without its '{hedge}'"
        plants.append(Plant("hedge", index, text, f"{text} {flat.strip()}", change))
    return plants


def plant_all(items: list[tuple[list[str], str]], seed: int = SEED) -> list[Plant]:
    """Return every plant for ``items`` given as (texts, source), in a fixed order."""
    rng = random.Random(seed)
    # Names of other items: those their summaries use and those their sources state.
    every_name = [
        (index, name)
        for index, (texts, source) in enumerate(items)
        for text in [*texts, source]
        for name in _names(text, source)
    ]
    plants: list[Plant] = []
    for index, (texts, source) in enumerate(items):
        others = sorted({name for at, name in every_name if at != index})
        for text in texts:
            plants += _figure_plants(index, text, source, rng)
            plants += _name_plants(index, text, source, others, rng)
            plants += _comparison_plants(index, text, source)
            plants += _hedge_plants(index, text, source)
    return plants
