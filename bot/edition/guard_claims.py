"""Comparative claims and dropped hedges: what a summary asserts beyond its source's strength.

Comparisons. "beats", "outperforms", "surpasses", "better than", "state of the art", "best",
"the first" are claims a source must make too. A superiority claim is supported by a
comparative or superlative cue in the source ("outperforms", "higher than", "state-of-the-art");
"state of the art", "best" and "SOTA" need a claim of leadership ("state-of-the-art",
"outperforms", "best"), not just "higher"; "the first" needs "first" or "to our knowledge";
parity words ("comparable", "matches", "on par", "competitive with") never support one. When the
claim names what is beaten ("beats GPT-4") and the source names it too, the source must put a
superiority cue before that name in one sentence, with no parity word in between.

Hedges. When the source says a thing "may", "might" or "could" happen (or only "suggests" it)
and a summary sentence says the same thing flatly — the same verb, and enough of the same
content words — with no hedge of its own, the summary has dropped the hedge. Figures under
"up to" are handled with the figures (``guard_figures``). To stay precise, a hedge is only
"dropped" if the source never states the claim flatly itself.
"""

from __future__ import annotations

import re

from bot.edition.guard_figures import ANY_HEDGE
from bot.edition.guard_text import Source, fold, listed, sentences, stem, words
from bot.edition.guard_words import is_common_word

_NEGATED = re.compile(r"\b(?:not|n't|never|no|fails? to|rather than|instead of)\s+(?:\w+\s+)?$")
_SUPERIOR = r"beat|beats|beating|outperform(?:s|ed|ing)?|surpass(?:es|ed|ing)?|exceed(?:s|ed|ing)?|better than|superior to|outclass(?:es|ed|ing)?|tops|ahead of"  # noqa: E501
_SOTA = r"state[- ]of[- ]the[- ]art|sota|best(?![- ]practices?)(?![- ]of both)|new record"
_FIRST = (
    r"(?:the|is|are|was|as the|be the) first(?![- ](?:step|stage|time|phase|half|part|pass|round"
    r"|place|author|turn|token|layer|attempt|draft|version|half|one|two|three))"
    r"|first[- ]ever|first to"
)
_CLAIM = re.compile(
    rf"\b(?:(?P<superior>{_SUPERIOR})|(?P<sota>{_SOTA})|(?P<first>{_FIRST}))\b", re.I
)
_SOURCE_SUPERIOR = re.compile(
    rf"\b(?:{_SUPERIOR}|{_SOTA}|better|higher|lower|faster|stronger|superior|gains? over"
    r"|improv\w* (?:over|upon)|advantage over|outperform\w*|surpass\w*|leading|top-performing"
    r"|more \w+ than|\w+er than|first place|new records?)\b",
    re.I,
)
# "State of the art" and "best" need a claim of leadership, not just of improvement.
_SOURCE_SOTA = re.compile(
    rf"\b(?:{_SOTA}|outperform\w*|surpass\w*|beat|beats|superior|leading|top-performing"
    r"|first place|new records?)\b",
    re.I,
)
_SOURCE_FIRST = re.compile(
    r"\b(?:first|pioneer\w*|to (?:the best of )?our knowledge|never before)\b", re.I
)
_PARITY = re.compile(
    r"\b(?:comparable|on par|par with|match(?:es|ed|ing)?|competitive|similar|close to|rival\w*"
    r"|approach(?:es|ing)?|as good as)\b",
    re.I,
)
# What a comparison is over: up to five words, ending at punctuation or a preposition.
_OBJECT = re.compile(
    r"\s*((?:(?!\b(?:on|in|by|at|with|across|while|and|for|when|using|despite)\b)"
    r"[\w+'-]+(?:\.\d+)?[ ]?){1,5})"
)
_MODAL = re.compile(r"\b(may|might|could)\s+(?:also\s+|still\s+|even\s+)?([a-z]+)", re.I)
_SUGGESTS = re.compile(r"\b(suggests?|suggested|indicates?|preliminary)\b", re.I)
_WEAK_VERBS = frozenset({"be", "have", "not", "help", "need", "want", "seem", "appear", "also"})
_STOP = listed(
    """this that these those with from into their there than then when where which while what
    such more most less also only each other both across about over under between through
    they them it its the and for are was were been being have has had will would should can
    could may might must does did done make makes made using used uses use"""
)


def _content_stems(text: str) -> set[str]:
    return {stem(word) for word in words(text) if len(word) > 3 and word not in _STOP}


def _name_in(text: str) -> str | None:
    """Return the first name-like word of ``text`` (capitals or digits), if any."""
    found: list[str] = re.findall(r"[A-Za-z][\w.+-]*[\w+]|[A-Za-z]", text)
    for word in found:
        if any(ch.isdigit() for ch in word) or sum(ch.isupper() for ch in word) >= 2:
            return word
        if word[0].isupper() and not is_common_word(word):
            return word
    return None


def comparison_problems(text: str, source: Source) -> list[str]:
    """Return each comparative or superlative claim in ``text`` the source does not support."""
    problems: list[str] = []
    for sentence in sentences(text):
        covered = 0  # "beats the state of the art" is one claim, not two
        for claim in _CLAIM.finditer(sentence):
            if claim.start() < covered or _NEGATED.search(
                sentence[max(0, claim.start() - 25) : claim.start()]
            ):
                continue
            tail = _OBJECT.match(sentence, claim.end()) if claim["superior"] else None
            target = tail.group(1).strip() if tail else ""
            covered = tail.end() if tail else claim.end()
            shown = f"{claim.group(0)} {target}".strip()
            if claim["first"]:
                supported = _SOURCE_FIRST.search(source.folded) is not None
            elif claim["sota"] or re.search(rf"\b(?:{_SOTA})\b", target, re.I):
                supported = _SOURCE_SOTA.search(source.folded) is not None
            else:
                supported = _SOURCE_SUPERIOR.search(source.folded) is not None
                name = _name_in(target) if claim["superior"] else None
                if supported and name and source.says(name):
                    supported = _beaten_in_source(name, source)
            if not supported:
                problems.append(" ".join(shown.split()[:6]).rstrip(".,;:!?"))
    return problems


def _beaten_in_source(name: str, source: Source) -> bool:
    """Return whether a source sentence puts a superiority cue before ``name``, no parity."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.I)
    for sentence in source.sentences:
        for hit in pattern.finditer(sentence):
            before = sentence[: hit.start()]
            cues = list(_SOURCE_SUPERIOR.finditer(before))
            if cues and not _PARITY.search(before[cues[-1].end() :]):
                return True
    return False


def hedge_problems(text: str, source: Source) -> list[str]:
    """Return each hedge of the source that a summary sentence states without (see module)."""
    hedged: list[tuple[str, str | None, set[str]]] = []  # (hedge, verb stem, content stems)
    flat: list[set[str]] = []
    for sentence in source.sentences:
        modal = _MODAL.search(sentence)
        suggests = _SUGGESTS.search(sentence)
        if modal and modal.group(2).lower() not in _WEAK_VERBS:
            after = sentence[modal.start() :]
            hedged.append((modal.group(1).lower(), stem(modal.group(2)), _content_stems(after)))
        elif suggests:
            hedged.append((suggests.group(1).lower(), None, _content_stems(sentence)))
        else:
            flat.append(_content_stems(sentence))
    problems: list[str] = []
    for sentence in sentences(text):
        if ANY_HEDGE.search(fold(sentence)):
            continue
        mine = _content_stems(sentence)
        for hedge, verb, theirs in hedged:
            if verb is not None and verb not in mine:
                continue
            shared = mine & theirs - {verb}
            needed = 3 if verb is not None else max(4, (len(theirs) + 1) // 2)
            if len(shared) < needed:
                continue
            # The source also states it without a hedge somewhere: nothing was dropped.
            if any(len(mine & other) >= len(shared) + (verb is not None) for other in flat):
                continue
            problems.append(f"drops the hedge '{hedge}'")
            break
    return problems
