"""Figures in a summary, matched whole with their unit against the figures of its source.

A figure is a number with what it counts: "16%", "16 hours", "3 days", "4 GPUs", "2x", "7B
parameters", "$5". A summary's figure is supported when the source states the same value with
the same unit, so "16%" is not supported by "16 hours" and "3 days" not by "3 weeks".

Decisions, each made to keep false alarms rare without letting a changed figure through:

* Values compare as numbers: "1,500" = "1.5K", "7B" = "7 billion"; a summary may round a
  figure ("42%" for "42.3%") but not change it.
* Units compare by kind: "%", "percent" and "points" are one kind (accuracy gains are reported
  either way); "x", "times" and "-fold" another; "hour"/"hours"/"16-hour" another. Other words
  after a number are counted nouns: "300 tasks" needs "300" with "tasks" near it in the source.
* Bare numbers of two or more digits (and years) must appear in the source; bare single digits
  are ignored (list numbers, "2 ideas"); single digits count once they carry a unit ("3 days",
  "4 GPUs", "2x"). Ordinals below 10 ("1st") are ignored.
* Number words are read as figures in the source, so "3 days" and "8 GPUs" are supported by
  "three days" and "eight GPUs". In a summary a number word is checked only with a unit of
  measure ("three days", "twelve percent"): "three ideas" is prose, not a figure. "one" is never
  read (it is usually a pronoun). A number after a label ("step 2", "Table 3") is a list number.
* A number glued to a name ("GPT-4", "Qwen2.5") is part of the name, not a figure.
* A source figure under "up to"/"as much as" or in a hedged sentence ("may", "suggests",
  "preliminary"…) is a hedged claim: a summary that states the same figure flatly drops the hedge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.edition.guard_text import Source, fold, listed, sentences, singular

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "hundred": 100, "dozen": 12,
}  # fmt: skip
_SCALES = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
    "billion": 1e9, "t": 1e12, "trillion": 1e12,
}  # fmt: skip
_UNITS = {
    "%": "percent", "percent": "percent", "percentage": "percent", "pct": "percent",
    "point": "percent", "pp": "percent", "x": "times", "×": "times", "time": "times",
    "fold": "times", "-fold": "times", "ms": "millisecond", "millisecond": "millisecond",
    "second": "second", "sec": "second", "minute": "minute", "min": "minute", "hour": "hour",
    "hr": "hour", "h": "hour", "day": "day", "week": "week", "month": "month", "year": "year",
    "yr": "year", "$": "dollar", "dollar": "dollar", "usd": "dollar",
}  # fmt: skip
# Words after a number that say nothing about what it counts.
_NOT_A_UNIT = listed(
    """a an the of to and or in on at for with by from across over under than more less fewer
    is are was were be been has have had that which who while when as into per vs versus
    out its their this these those it new other"""
)
_FIGURE = re.compile(
    r"(?<![\w.$])(?<![A-Za-z]-)(?P<cur>\$)?"
    r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?|(?i:" + "|".join(_NUMBER_WORDS) + r")(?![\w-]))"
    r"(?P<ord>st|nd|rd|th(?![a-z]))?"
    r"(?P<sym>\s?%|\s?×|[xX](?![A-Za-z\d])|(?:k|K|M|B|T|bn|mn)(?![A-Za-z\d]))?\+?"
)
# Words that make the number after them a label, not a quantity: "step 2", "Table 3".
_LABELS = listed(
    """step steps stage phase part section table figure fig chapter level round version
    tier rank item option case example experiment setting task question lesson"""
)
_LABEL_BEFORE = re.compile(r"\b([A-Za-z]+)\.?\s*$")
_TAIL_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_TAIL_STOP = re.compile(r"[.,;:!?()\[\]]|\d")
_RANGE_JOIN = re.compile(r"\s*(?:%|percent)?\s*(?:to|-|and|or|→|->|vs\.?|versus)\s*", re.I)
_UPPER_HEDGE = re.compile(
    r"\b(up to|as much as|as many as|as high as|as large as|at most)\s+(?:an?\s+)?$", re.I
)
_SENTENCE_HEDGE = re.compile(
    r"\b(may|might|could|suggests?|suggested|preliminary|potentially|possibly"
    r"|in some (?:settings|cases|tasks|domains))\b",
    re.I,
)
# A sentence that keeps a claim tentative: it may carry a hedged source claim as it is.
ANY_HEDGE = re.compile(
    r"\b(may|might|could|can|suggests?|suggested|suggesting|preliminary|potentially|possibly"
    r"|in some|early|initial|likely|appears?|seems?|promising|reportedly|up to|as much as)\b",
    re.I,
)
# Words right before a figure that keep it a bound or an estimate ("up to 16%", "about 16%").
_NEAR_HEDGE = re.compile(
    r"\b(up to|as much as|as many as|as high as|as large as|at most|nearly|almost|about"
    r"|around|roughly|approximately|maximum of|peak of|max)\b[^.;]*$|~\s*$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Figure:
    """One number as written, with its value, the kind of unit and the nouns after it."""

    text: str  # the number and its unit as written: "16 hours", "93%"
    number: str  # the number with any attached symbol: "16", "93%"
    value: float
    decimals: int
    unit: str | None  # a unit kind ("percent", "hour"…), "noun", or None for a bare number
    nouns: tuple[str, ...]
    plural: bool  # the first noun was written in the plural ("4 GPUs")
    is_word: bool  # written as a word ("three")
    ordinal: bool
    label: bool  # numbers a thing ("step 2") rather than counting
    upper_hedge: str | None  # "up to"… right before it
    sentence_hedge: str | None  # "may"… in its sentence


def noun_form(word: str) -> str:
    """Return a word after a number in a comparable form: lower case, singular, no hyphen."""
    word = word.lstrip("-")
    if len(word) > 2 and word.endswith("s") and word[:-1].isupper():
        return word[:-1].lower()  # "GPUs"
    return singular(word.lower())


def _tail(text: str, end: int) -> list[str]:
    """Return up to four words after a number, stopping at sentence punctuation or a number."""
    rest = text[end : end + 60]
    stop = _TAIL_STOP.search(rest)
    return _TAIL_WORD.findall(rest[: stop.start()] if stop else rest)[:4]


def _figures_in(sentence: str) -> list[Figure]:
    """Return every figure of one sentence, in order, ranges sharing their unit."""
    found: list[Figure] = []
    hedge = _SENTENCE_HEDGE.search(sentence)
    for match in _FIGURE.finditer(sentence):
        num, sym = match["num"], (match["sym"] or "").strip()
        is_word = num[0].isalpha()
        value = float(_NUMBER_WORDS[num.lower()] if is_word else num.replace(",", ""))
        decimals = len(num.split(".")[1]) if "." in num else 0
        written_tail = _tail(sentence, match.end())
        tail = [noun_form(word) for word in written_tail]
        if sym.lower() in _SCALES:
            value *= _SCALES[sym.lower()]
            sym = ""
        elif tail and tail[0] in _SCALES and len(tail[0]) > 2:
            value *= _SCALES[tail.pop(0)]
        unit: str | None = _UNITS.get(sym.lower()) if sym else None
        if match["cur"]:
            unit = "dollar"
        written = match.group(0).strip()
        text, nouns, plural = written, [], False
        if unit is None and tail and tail[0] not in _NOT_A_UNIT:
            first = written_tail[-len(tail)].lstrip("-")
            text = f"{written} {first}"
            unit = _UNITS.get(tail[0]) or _UNITS.get(first.lower())
            if unit is None:
                unit, plural = "noun", tail[0] != first.lower()
                for word in tail:
                    if word in _NOT_A_UNIT:
                        break
                    nouns.append(word)
        before = sentence[max(0, match.start() - 30) : match.start()]
        upper = _UPPER_HEDGE.search(before)
        label = _LABEL_BEFORE.search(before)
        found.append(
            Figure(
                text=text,
                number=written,
                value=value,
                decimals=decimals,
                unit=unit,
                nouns=tuple(nouns),
                plural=plural,
                is_word=is_word,
                ordinal=bool(match["ord"]),
                label=bool(label and label.group(1).lower() in _LABELS),
                upper_hedge=upper.group(1).lower() if upper else None,
                sentence_hedge=hedge.group(1).lower() if hedge else None,
            )
        )
        # "from 42 to 55%": the first number of a range takes the unit of the second.
        if len(found) >= 2 and found[-2].unit is None and found[-1].unit not in (None, "noun"):
            gap = sentence[_end_of(sentence, found[-2], match.start()) : match.start()]
            if _RANGE_JOIN.fullmatch(gap):
                found[-2] = replace(found[-2], unit=found[-1].unit)
    return found


def _end_of(sentence: str, figure: Figure, before: int) -> int:
    """Return where ``figure``'s number ends in ``sentence`` (its last occurrence before)."""
    return sentence.rfind(figure.number, 0, before) + len(figure.number)


def figures(text: str) -> list[Figure]:
    """Return every figure in ``text``, sentence by sentence."""
    return [figure for sentence in sentences(text) for figure in _figures_in(sentence)]


def source_figures(source: Source) -> list[Figure]:
    """Return every figure of a source, number words included."""
    return [figure for sentence in source.sentences for figure in _figures_in(sentence)]


def _same_value(claim: Figure, stated: Figure) -> bool:
    """Return whether ``stated`` says ``claim``'s value, allowing the claim to round it."""
    if claim.value == stated.value:
        return True
    precision = 0.5 * 10.0**-claim.decimals
    return stated.decimals > claim.decimals and abs(stated.value - claim.value) < precision


def _same_unit(claim: Figure, stated: Figure, source: Source) -> bool:
    """Return whether ``stated`` counts what ``claim`` counts."""
    if claim.unit is None:
        return True
    if claim.unit != "noun":
        return stated.unit == claim.unit
    if stated.unit == "noun" and set(claim.nouns) & set(stated.nouns):
        return True
    # "300 tasks" is supported by "a total of 300 ... tasks" in one sentence.
    return stated.unit is None and any(
        _states(sentence, stated) and any(source_mentions(sentence, noun) for noun in claim.nouns)
        for sentence in source.sentences
    )


def _states(sentence: str, figure: Figure) -> bool:
    return figure.number in sentence


def source_mentions(sentence: str, noun: str) -> bool:
    """Return whether ``sentence`` uses ``noun`` (singular or plural)."""
    return (
        re.search(rf"(?<![a-z]){re.escape(noun)}(?:s|es)?(?![a-z])", sentence.lower()) is not None
    )


def checked(figure: Figure) -> bool:
    """Return whether a summary's figure is specific enough to need support."""
    if figure.ordinal or figure.label:
        return figure.ordinal and figure.value >= 10
    if figure.is_word:
        return figure.unit not in (None, "noun")
    if figure.unit is None:
        return not figure.is_word and (figure.value >= 10 or figure.decimals > 0)
    if figure.unit == "noun" and figure.value < 10 and figure.decimals == 0:
        return figure.plural  # "4 GPUs" yes, "2 ideas" too; "1 thing"/"3 main" no
    return True


def figure_problems(text: str, source: Source, stated: list[Figure]) -> list[str]:
    """Return a short description of each figure in ``text`` the source does not support."""
    problems: list[str] = []
    for sentence in sentences(text):
        for claim in _figures_in(sentence):
            if not checked(claim):
                continue
            same_value = [figure for figure in stated if _same_value(claim, figure)]
            if not same_value:
                # A missing value is named as written ("93%", "12"); a small one with its unit,
                # which is what makes it a figure ("3 days", "4 GPUs").
                small = claim.value < 10 and claim.number[-1:].isalnum()
                problems.append(claim.text if small else claim.number)
                continue
            supporting = [figure for figure in same_value if _same_unit(claim, figure, source)]
            if not supporting:
                problems.append(claim.text)
                continue
            hedge = _dropped_hedge(claim, sentence, supporting)
            if hedge:
                problems.append(f"drops the hedge '{hedge}' ({claim.text})")
    return problems


def _dropped_hedge(claim: Figure, sentence: str, supporting: list[Figure]) -> str | None:
    """Return the hedge every supporting statement carries and ``sentence`` lacks, if any.

    A bound ("up to") is kept by a bound or an estimate in the few words before the figure,
    or by a hedge anywhere in the sentence; a hedged sentence ("may") by a hedge in the sentence.
    """
    hedges = [figure.upper_hedge or figure.sentence_hedge for figure in supporting]
    if not all(hedges) or ANY_HEDGE.search(fold(sentence)):
        return None
    at = sentence.find(claim.number)
    before = sentence[max(0, at - 25) : max(at, 0)]
    if all(figure.upper_hedge for figure in supporting) and _NEAR_HEDGE.search(before):
        return None
    return hedges[0]
