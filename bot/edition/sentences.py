"""Prose out of a source: clean sentences, junk screening and honest recasting.

The offline writer may only select and rephrase what the source says. This module turns a
paper abstract or a feed entry into candidate sentences (links, markup, tag lines, chapter
lists, transcripts and promotions dropped), tells which are unusable as a digest sentence
(questions, first person, related work, fragments), and recasts the rest: paper voice becomes
third person and framing clauses ("To address this,", "(e.g., …)", ", which …") are trimmed.
Trimming drops whole clauses and never touches a figure inside the part that is kept.
"""

from __future__ import annotations

import re

_INLINE_LINK = re.compile(r"\s*\((?:https?://)[^)\s]*\)")
_BARE_LINK = re.compile(r"\s*(?:https?://|www\.)\S+")
_FOOTNOTE = re.compile(r"(?<=[a-z])\d{1,2}\s*\(https?://[^)\s]*footnote[^)\s]*\)")
_MARKUP = re.compile(r"\*\*|__|`|^#+\s+|^>\s*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)\]]?\s+(?=[A-Z0-9\"'“(\[])")
_SPACES = re.compile(r"\s+")
_TIMESTAMP = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_SPEAKER = re.compile(r"^(?:\d{1,2}:\d{2}(?::\d{2})?\s+)?[A-Z][\w.]*(?: [A-Z][\w.]*)?:\s")
_BOILERPLATE = re.compile(
    r"^(?:Tags|Tagged|Keywords|Key terms|Threads it touches|Chapters|Transcript|Share|Via|"
    r"Listen on|Watch on|Order on|Edit|Update|Updated|Note|Source|Credit|Image|Figure)\b"
)
# A paragraph that sells something (a book, a subscription, a sponsor) is never the news.
_PROMO = re.compile(
    r"\b(?:my (?:new )?book|order (?:it )?on|pre-?order|sponsor(?:ed|s)?\b|subscribe|"
    r"subscriber|reader-supported|newsletter|listen on|thanks for the support|paid member|"
    r"become a member|buy the book|exciting news)\b",
    re.IGNORECASE,
)
_TRANSCRIPT_START = re.compile(r"^(?:Transcript|Full transcript|Chapters)\b.*$", re.IGNORECASE)
_FIRST_PERSON = re.compile(
    r"\b(?:I|I['’](?:m|ve|d|ll)|[Mm]e|[Mm]y|[Mm]ine|[Ww]e|[Ww]e['’](?:re|ve|d|ll)|[Oo]urs?|us)\b"
)
_BACKGROUND = re.compile(
    r"^(?:(?:Prior|Previous|Existing|Recent|Past|Earlier|Many|Most|Numerous|Several)\s+"
    r"(?:\w+\s+){0,2}(?:work|works|studies|research|methods|approaches|efforts|papers)\b|"
    r"(?:Over|During|In) (?:the )?(?:past|recent|last)\b|In recent years\b|Recently,)"
    r"|\b(?:has|have) (?:attracted|gained|received|drawn|garnered) (?:\w+ ){0,2}attention"
    r"|\b(?:has|have) (?:been )?(?:shown|demonstrated|exhibited) (?:great|remarkable|impressive|"
    r"significant|strong|promising|tremendous) (?:potential|promise|success|capabilit\w*|"
    r"performance|progress)"
    r"|\b(?:has|have) been (?:widely|extensively) (?:studied|used|adopted|explored)"
    r"|\b(?:existing|previous|prior) (?:works?|methods|approaches|studies) (?:have|has|fall|"
    r"suffer|rely|often|typically|either|mainly)\b",
    re.IGNORECASE,
)
_DANGLING = re.compile(
    r"\b(?:the|a|an|their|its|our|of|in|to|and|or|with|for|by|on|at|from|as|into|than|that|"
    r"which|is|are|was|were|be|this|these|e\.g|i\.e|etc)[.!]$",
    re.IGNORECASE,
)
_NON_PROSE = re.compile(r"\$\(|\\|[{}<>|=]|^[^A-Za-z]*$|#\d|:\)")
_LEADING_FRAME = re.compile(
    r"^(?:In this (?:paper|work|article|study|post)|Here|To this end|As such|In particular|"
    r"Specifically|Furthermore|Moreover|Additionally|In addition|Notably|Finally|Meanwhile|"
    r"First(?:ly)?|Second(?:ly)?|Third(?:ly)?|Then|Thus|Therefore|Hence|Overall|Importantly|"
    r"For (?:instance|example)|Experimentally|Empirically|In summary|In short|Also|However|Yet|"
    r"Consequently|Accordingly|Interestingly|Crucially|Concretely|Instead|Today|Now|So|And|But|"
    r"To (?:address|tackle|overcome|bridge|fill|solve|mitigate|remedy|alleviate|close|fix|"
    r"answer|this end|do so|that end)(?: (?:this|these|the|that|such)(?: [\w-]+){0,6})?|"
    r"(?:Though|Although|While|Despite|Unlike) [^,]{3,80})\s*,\s*"
)
_PURPOSE_FRAME = re.compile(r"^To [a-z]+ [^,]{3,90},\s*(?=[A-Z]|it |the |this |they )")
_RESULTS_FRAME = re.compile(
    r"^(?:Our|The|These|Experimental|Extensive|Empirical)?\s*(?:experimental |empirical |"
    r"extensive )?(?:results|experiments|findings|evaluations?|analys[ie]s|evidence)\s+"
    r"(?:on [^,]{3,60} )?(?:show|shows|demonstrate|demonstrates|indicate|indicates|reveal|"
    r"reveals|confirm|confirms)\s+that\s+",
    re.IGNORECASE,
)
_SELF_PRAISE = re.compile(
    r"(?:\s+and)?\s+(?:novel|simple yet effective|simple but effective)(?:\s+and)?(?=\s)"
)
_CLAUSE_REST = r"(?:[^.;]|\.(?=\d))*(?=[.;]$)"  # to the sentence's end; "3.5" is not an end
_EXAMPLE_TAIL = re.compile(r",?\s+(?:e\.g\.|i\.e\.|such as)\s*,?\s" + _CLAUSE_REST)
_WHICH_TAIL = re.compile(r",\s+(?:which|where|whereby)\s" + _CLAUSE_REST)
_WHILE_TAIL = re.compile(
    r",\s+(?:and that|while|thereby|allowing|enabling|making|leading to|resulting in|"
    r"primarily due to|mainly due to|demonstrating|highlighting|suggesting|paving the way)\s"
    + _CLAUSE_REST
)
_PARENTHETICAL = re.compile(r"\s*\((?![^()]*\d)[^()]{2,}\)|\s*\((?:e\.g\.|i\.e\.)[^()]*\)")
_WE_VERB = re.compile(r"^[Ww]e\s+(?:(\w+ly)\s+)?(\w+)\b")
_CLAUSE_WE = re.compile(r"(?<=, )we\s+(?:(\w+ly)\s+)?(\w+)\b")
_INNER_WE = re.compile(r"(?<=[\w,]) we\s+(?:(\w+ly)\s+)?(\w+)\b")
_OUR = re.compile(r"\b[Oo]ur\b")
_PROPOSED = re.compile(r"\b(?<=[Tt]he) proposed\b")
_TERMINAL = (".", "!")
MIN_WORDS = 6
MAX_SENTENCE = 420
_IRREGULAR = {"have": "has", "are": "is", "do": "does", "go": "goes", "were": "were"}


def clean_paragraphs(text: str) -> list[str]:
    """Return the prose paragraphs of a source, without links, markup, promotions or lists.

    A transcript or chapter list ends the useful part of a post: everything after it is
    filler (timestamps, speaker turns), so reading stops there.
    """
    paragraphs: list[str] = []
    for line in text.replace("\r", "").split("\n"):
        stripped = line.strip()
        if _TRANSCRIPT_START.match(stripped):
            break
        stripped = _FOOTNOTE.sub("", stripped)
        stripped = _INLINE_LINK.sub("", stripped)
        stripped = _BARE_LINK.sub("", stripped)
        stripped = _MARKUP.sub("", stripped).strip()
        if (
            not stripped
            or re.match(r"^(?:[-•*–]|\d+[.)])(?:\s|$)", stripped)
            or _BOILERPLATE.match(stripped)
            or _SPEAKER.match(stripped)
            or _TIMESTAMP.match(stripped)
            or _PROMO.search(stripped)
        ):
            continue
        paragraphs.append(_SPACES.sub(" ", stripped))
    return paragraphs


def source_sentences(text: str) -> list[str]:
    """Split a source into its readable sentences, in order, each ending in a full stop.

    A paragraph's last piece without closing punctuation is a heading, a list item or a cut
    feed excerpt: it is dropped rather than given a full stop it never had.
    """
    sentences: list[str] = []
    for paragraph in clean_paragraphs(text):
        for raw in _SENTENCE_SPLIT.split(paragraph):
            sentence = raw.strip(" -•*")
            if (
                len(sentence.split()) < MIN_WORDS
                or len(sentence) > MAX_SENTENCE
                or not sentence[0].isupper()
                or not sentence.endswith((*_TERMINAL, "?"))
                or not is_prose(sentence)
            ):
                continue
            sentences.append(sentence)
    return sentences


def is_prose(sentence: str) -> bool:
    """Return whether a sentence is prose: no code, maths, timestamps or markup."""
    letters = sum(ch.isalpha() or ch == " " for ch in sentence)
    return (
        not _NON_PROSE.search(sentence)
        and not _TIMESTAMP.search(sentence)
        and letters >= 0.8 * len(sentence)
    )


def is_first_person(sentence: str) -> bool:
    """Return whether a sentence speaks as I or we (a paper's "the authors" is fine)."""
    return bool(_FIRST_PERSON.search(sentence))


def is_background(sentence: str) -> bool:
    """Return whether a sentence is background or related work rather than the item's own."""
    return bool(_BACKGROUND.search(sentence))


def is_usable(sentence: str) -> bool:
    """Return whether a (recast) sentence may stand in a summary or as a takeaway."""
    return (
        len(sentence.split()) >= MIN_WORDS
        and sentence[:1].isupper()
        and sentence.endswith(_TERMINAL)
        and "?" not in sentence
        and not sentence.rstrip(".").endswith(("…", ".."))
        and not _DANGLING.search(sentence)
        and not sentence.rstrip(".").endswith(":")
        and sentence.count("(") == sentence.count(")")
        and sentence.count("“") == sentence.count("”")
        and sentence.count('"') % 2 == 0
        and not is_first_person(sentence)
        and not is_background(sentence)
        and not _BOILERPLATE.match(sentence)
        and is_prose(sentence)
    )


def _third_singular(verb: str) -> str:
    lowered = verb.lower()
    if lowered in _IRREGULAR:
        return _IRREGULAR[lowered]
    if lowered.endswith("ss"):
        return lowered + "es"
    if lowered.endswith(("ed", "s")) or lowered in {"can", "could", "will", "would", "may"}:
        return lowered  # past tense and modals read the same after "it"
    if lowered.endswith(("sh", "ch", "x", "z", "o")):
        return lowered + "es"
    if lowered.endswith("y") and lowered[-2:-1] not in set("aeiou"):
        return lowered[:-1] + "ies"
    return lowered + "s"


def third_person(sentence: str, subject: str = "The authors") -> str:
    """Recast a paper's first person: "We propose X and our results" becomes third person.

    A leading "We <verb>" takes ``subject`` with the verb agreeing ("This paper proposes");
    "our" becomes "the"; a "we" inside the sentence becomes "the authors". A sentence that
    keeps any other first person is left for ``is_usable`` to reject.
    """
    plural = subject.lower() in {"the authors", "they"}

    def lead(match: re.Match[str]) -> str:
        adverb, verb = match.group(1), match.group(2)
        verb = verb if plural else _third_singular(verb)
        return f"{subject} {adverb + ' ' if adverb else ''}{verb}"

    sentence = _WE_VERB.sub(lead, sentence, count=1)
    # "Through X, we show" has the subject after an opening phrase: it takes ``subject`` too.
    sentence = _CLAUSE_WE.sub(lambda m: lead(m)[:1].lower() + lead(m)[1:], sentence, count=1)
    sentence = _INNER_WE.sub(
        lambda m: f" the authors {m.group(1) + ' ' if m.group(1) else ''}{m.group(2)}", sentence
    )
    sentence = _OUR.sub(lambda m: "The" if m.group(0) == "Our" else "the", sentence)
    sentence = re.sub(r"\b[Uu]s\b(?=[\s,.])", "them", sentence)
    return sentence[0].upper() + sentence[1:] if sentence else sentence


def without_framing(sentence: str) -> str:
    """Drop leading framing ("However,", "To address this,", "Our results show that")."""
    for _ in range(3):  # "Furthermore, to address this, we…" stacks frames
        trimmed = _LEADING_FRAME.sub("", sentence)
        trimmed = _RESULTS_FRAME.sub("", trimmed)
        trimmed = _PURPOSE_FRAME.sub("", trimmed)
        if trimmed == sentence or len(trimmed.split()) < MIN_WORDS:
            break
        sentence = trimmed[0].upper() + trimmed[1:]
    return sentence


def trimmed(sentence: str, target: int = 190) -> str:
    """Shorten a sentence by dropping whole clauses: asides, examples, trailing relatives.

    Parenthetical asides without a figure and "e.g." lists always go (a digest reader does
    not need them); trailing "which"/"while" clauses go only while the sentence is long.
    """
    sentence = _PARENTHETICAL.sub("", sentence)
    sentence = _SELF_PRAISE.sub("", sentence)
    sentence = _PROPOSED.sub("", sentence)
    for tail in (_EXAMPLE_TAIL, _WHICH_TAIL, _WHILE_TAIL):
        if len(sentence) <= target:
            break
        shorter = tail.sub("", sentence)
        if len(shorter.split()) >= MIN_WORDS:
            sentence = shorter
    sentence = _SPACES.sub(" ", sentence).replace(" ,", ",").replace(" .", ".")
    return sentence[0].upper() + sentence[1:] if sentence else sentence


_APPOSITIVE = re.compile(
    r"^(?P<head>.+?\b(?P<name>[A-Z][\w-]+),\s+"
    r"(?:a|an)\s+[^,]{3,120}?)\s+(?:that|which)\s+(?P<rest>[a-z][^,]{10,}[.!])$"
)


def split_appositive(sentence: str) -> tuple[str, str] | None:
    """Split "… NAME, a THING that DOES X." into its introduction and "NAME DOES X.".

    A contribution sentence usually names the thing and says what it does in one breath; a
    digest reads better saying the first in the summary and the second as a takeaway.
    """
    match = _APPOSITIVE.match(sentence)
    if match is None:
        return None
    return f"{match.group('head')}.", f"{match.group('name')} {match.group('rest')}"


def tokens(text: str) -> list[str]:
    """Return the lower-cased words and numbers of a text (for overlap measures)."""
    return re.findall(r"[a-z0-9]+(?:[.,][0-9]+)*", text.lower())


def overlap(a: str, b: str) -> float:
    """Return the share of words two sentences have in common, against the longer one."""
    left, right = set(tokens(a)), set(tokens(b))
    if not left or not right:
        return 0.0
    return len(left & right) / max(len(left), len(right))
