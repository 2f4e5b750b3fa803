"""How much background an item asks of its reader, judged from its content, not its kind.

Theory (proofs, bounds, formal methods, dense maths) is Advanced; guides, announcements,
how-tos and plain-language commentary are Accessible; a typical empirical ML paper or a
technical post is Intermediate. Counting *distinct* terms keeps one long text from winning
on repetition alone.
"""

from __future__ import annotations

import re

from bot.domain import Difficulty

_THEORY = re.compile(
    r"(?<![\w-])(?:theorems?|lemmas?|proofs?|prove[sd]?|provabl[ey]|upper bounds?|lower bounds?|"
    r"regret|convergence|converges?|asymptotic\w*|formal (?:verification|semantics|methods?|"
    r"guarantees?)|formally|manifolds?|variational|stochastic differential|equations?|"
    r"optimality|closed-form|derivations?|sample complexity|np-hard|polynomial[- ]time|"
    r"cryptograph\w*|signature schemes?|algebra\w*|theoretical\w*|lean 4|"
    r"information-theoretic|minimax|lipschitz|hilbert|bayesian inference)(?![\w-])",
    re.IGNORECASE,
)
_MATH = re.compile(r"[=∑∫≤≥≈∈∀∃^]|\b[a-z]\s*\*\s*\d|\bO\([^)]*\)")
_PRACTICE = re.compile(
    r"(?<![\w-])(?:guides?|tutorials?|how to|how-to|step[- ]by[- ]step|walkthrough|primer|"
    r"introduction to|explainer|tips|lessons learned|case study|announc\w*|now available|"
    r"launch\w*|rolled out|rollout|release notes|podcast|episode|interview|conversation|"
    r"education\w*|students?|instructors?|curriculum|classroom|survey|overview|"
    r"beginners?|newcomers?|productivity|opinion|essay|recap)(?![\w-])",
    re.IGNORECASE,
)
_JARGON = re.compile(
    r"(?<![\w-])(?:gradients?|loss|tokens?|transformers?|attention|fine-tun\w*|finetun\w*|"
    r"reinforcement learning|rl|rlhf|rlvr|dpo|distillation|quantiz\w*|kv cache|embeddings?|"
    r"inference|latency|throughput|parameters?|gpus?|cuda|kernels?|encrypt\w*|jailbreak\w*|"
    r"chain-of-thought|prompt injection|reward\w*|polic(?:y|ies)|preference optimization|"
    r"contrastive|retrieval|rag|pre-?training|post-training|synthetic data|hallucinations?|"
    r"benchmarks?|mixture-of-experts|moe|sparse|decoding|batch sizes?|context window|"
    r"alignment|ablations?|baselines?|architectures?|representations?|sota|state-of-the-art|"
    r"datasets?|checkpoints?|lora|sampling|logits|classifiers?|instruction tuning|"
    r"multimodal|vision-language|diffusion|reasoning traces?|scaling laws?)(?![\w-])",
    re.IGNORECASE,
)
# The marks of a typical empirical paper: a method, experiments, baselines, a benchmark.
_EMPIRICAL = re.compile(
    r"(?<![\w-])(?:propos\w*|introduc\w*|experiments?|results|evaluat\w*|outperform\w*|"
    r"baselines?|benchmarks?|datasets?|ablations?|state-of-the-art|trained|training)(?![\w-])",
    re.IGNORECASE,
)
_WINDOW = 3000


def _distinct(pattern: re.Pattern[str], text: str) -> int:
    return len({match.lower() for match in pattern.findall(text)})


def difficulty_of_text(title: str, text: str) -> Difficulty:
    """Guess the level from the title and the (cleaned) opening of the text."""
    body = f"{title}. {text[:_WINDOW]}"
    theory = _distinct(_THEORY, body)
    maths = len(_MATH.findall(body))
    practice = _distinct(_PRACTICE, body)
    jargon = _distinct(_JARGON, body)
    empirical = _distinct(_EMPIRICAL, body)
    if theory >= 3 or (theory >= 2 and maths >= 1) or (theory >= 1 and maths >= 3):
        return Difficulty.ADVANCED
    # Plain-language writing (few technical terms, no experiments), or a guide or an
    # announcement that is not dense with them, asks little background.
    plain = jargon <= 2 and empirical < 2
    if plain or (practice >= 1 and jargon <= 4) or (practice >= 2 and jargon <= 6):
        return Difficulty.ACCESSIBLE
    return Difficulty.INTERMEDIATE
