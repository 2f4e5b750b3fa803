"""Vocabulary the faithfulness guard treats as common knowledge rather than as a claim.

Three kinds of words are never "names a source must contain":

* generic technical vocabulary a summary may use to explain a paper (Python, JSON, GPU, RAG,
  CoT, Hugging Face…): naming a tool or a technique family is context, not a fabricated fact;
* everyday English words, which start sentences in capitals ("Models", "Measure"): words that
  an English dictionary lists in lower case (web2, from the ``english-words`` package, so
  capitalised proper nouns are out) and that are in everyday use (a frequency of at least
  100 in ``pyspellchecker``'s English counts, so rare words that double as names, such
  as "verdigris", are out), plus modern words the 1934 dictionary predates ("dataset",
  "benchmark", "agentic"). Both lists ship inside their packages; nothing is downloaded;
* acronyms whose expansion the source spells out ("RAG" for "retrieval-augmented generation"),
  found from the source's word initials rather than from a table, so new acronyms work too.

The lists are general by design: they must not name any particular paper, model or lab, since a
name of that kind is exactly what the guard exists to check.
"""

from __future__ import annotations

import re
from functools import cache

from english_words import get_english_words_set
from spellchecker import SpellChecker

from bot.edition.guard_text import listed, singular, words

# Acronyms and product names so common in engineering writing that naming them adds no claim.
GENERIC_TERMS = listed(
    """
    ai ml nlp nlu llm lm slm vlm mllm agi gpu cpu tpu npu asic fpga api sdk cli ui ux ide os
    json jsonl yaml toml xml html css sql nosql http https rest grpc url urls uri pdf csv
    ram vram hbm ssd flop flops io fp8 fp16 bf16 fp32 int8 int4 cuda
    rag cot tot dpo sft rlhf rlaif rlvr ppo grpo rl irl moe lora qlora peft kv mcp sota oss
    ci cd qa faq pr roi kpi saas paas iaas asr tts ocr gan cnn rnn lstm mlp ssm vae ood auc f1
    etl e2e id ids uuid
    python javascript typescript java rust golang bash shell linux macos unix docker kubernetes
    git github gitlab hugging face huggingface arxiv pytorch tensorflow jax numpy pandas jupyter
    markdown latex vscode postgres postgresql sqlite redis wikipedia
    english internet web transformer transformers i ok
    """
)
# Multi-word generic terms, checked as phrases.
GENERIC_PHRASES = frozenset({"hugging face", "stack overflow", "vs code", "a/b"})

# Everyday words of computing that the 1934 dictionary predates; only ever used to decide that a
# capitalised sentence-initial word is a common word, never to excuse a name mid-sentence.
MODERN_WORDS = listed(
    """
    online offline email website internet database debug debugging download chatbot metadata
    runtime codebase backend frontend scalability explainability benchmark dataset workflow
    jailbreak agentic embedding finetune finetuning fine-tuning pretraining pretrain
    post-training tokenizer tokenization app smartphone startup coding automation automate
    optimizer rollout leaderboard baseline toolkit plugin debugger caching open-source
    onboarding auditing auditable sandboxing spreadsheet screenshot multi-agent eval evals
    evaluator deployable reusable customizable adversarial long-context subagent guardrail
    multimodal misalignment unlearning reproducibility upskilling copilot autocomplete
    prompt prompting hallucination hallucinate interpretability steerability alignment
    """
)

# Small words that may sit inside an expansion without contributing a letter to the acronym.
_GLUE = frozenset({"of", "and", "for", "the", "from", "in", "on", "to", "with", "a", "by"})


# How often a word must occur in pyspellchecker's English counts to be "everyday": below this
# sit rare words that are also used as names of labs and products ("verdigris" 50, "zymurgy" 50).
EVERYDAY_FREQUENCY = 100


@cache
def _dictionary() -> frozenset[str]:
    """Return the everyday English words: web2's lower-case entries in frequent use."""
    counts = SpellChecker(language="en", distance=1).word_frequency.dictionary
    return frozenset(
        word
        for word in get_english_words_set(["web2"])
        if word.islower() and counts.get(word, 0) >= EVERYDAY_FREQUENCY
    )


# Inflections and the ending of the base they come from: "-ing" from "" or "e" ("making").
_SUFFIXES = (("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("d", ""), ("es", ""),
             ("ly", ""), ("er", ""), ("ers", ""), ("ness", ""))  # fmt: skip


_BRITISH = (("isation", "ization"), ("ising", "izing"), ("ised", "ized"), ("ise", "ize"),
            ("yse", "yze"), ("ysing", "yzing"), ("our", "or"), ("ours", "ors"))  # fmt: skip
"""British endings and their American spelling: web2 is an American dictionary."""


def _forms(word: str) -> list[str]:
    """Return the word and the base forms its common inflections may come from."""
    american = [word[: -len(gb)] + us for gb, us in _BRITISH if word.endswith(gb)]
    if american and american[0] != word:
        return [*_forms_of(word), *_forms_of(american[0])]
    return _forms_of(word)


def _forms_of(word: str) -> list[str]:
    forms = [word, singular(word)]
    for suffix, base in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            forms.append(word[: -len(suffix)] + base)
    cut = 4 if word.endswith("ing") else 3 if word.endswith("ed") else 0
    if cut and len(word) > cut + 3 and word[-cut] == word[-cut - 1]:
        forms.append(word[:-cut])  # "planned" -> "plan", "planning" -> "plan"
    return forms


def is_common_word(word: str) -> bool:
    """Return whether ``word`` is everyday English (any case, inflected or hyphenated)."""
    lower = word.lower().strip("'")
    if lower.endswith("'s"):
        lower = lower[:-2]
    parts = [part for part in lower.split("-") if part]
    if not parts or not all(part.isalpha() for part in parts):
        return False
    dictionary = _dictionary()
    return all(
        any(form in dictionary or form in MODERN_WORDS for form in _forms(part))
        or part in MODERN_WORDS
        for part in parts
    )


def is_generic(term: str) -> bool:
    """Return whether ``term`` is generic technical vocabulary (see GENERIC_TERMS)."""
    lower = term.lower().replace("’", "'")
    if lower.endswith("'s"):
        lower = lower[:-2]
    if lower in GENERIC_PHRASES or lower in GENERIC_TERMS:
        return True
    # Plurals of acronyms: "LLMs", "GPUs", "APIs".
    return len(lower) > 2 and lower.endswith("s") and lower[:-1] in GENERIC_TERMS


def expands_in(acronym: str, source_words: list[str]) -> bool:
    """Return whether the source spells out ``acronym`` as consecutive word initials.

    "RAG" matches "retrieval-augmented generation", "CoT" "chain-of-thought", "RLHF"
    "reinforcement learning from human feedback" (a glue word may be skipped), "LoRA"
    "low-rank adaptation" (only the capitals of a mixed-case acronym need to match).
    """
    bare = re.sub(r"[^A-Za-z]", "", acronym)
    if bare.endswith("s") and len(bare) > 2 and bare[:-1].isupper():
        bare = bare[:-1]
    letters = {bare.lower(), "".join(ch for ch in bare if ch.isupper()).lower()}
    pieces = [piece for word in source_words for piece in word.split("-") if piece]
    for target in letters:
        if len(target) < 2:
            continue
        for start, piece in enumerate(pieces):
            if piece[0] == target[0] and _spells(target, pieces, start):
                return True
    return False


def _spells(target: str, pieces: list[str], start: int) -> bool:
    """Return whether initials of ``pieces[start:]`` spell ``target``, skipping glue words."""
    at, index = 0, start
    while at < len(target) and index < len(pieces):
        piece = pieces[index]
        if piece[0] == target[at]:
            at += 1
        elif piece not in _GLUE:
            return False
        index += 1
    return at == len(target)


def source_words(text: str) -> list[str]:
    """Return the words of a source, for ``expands_in``."""
    return words(text)
