"""How long the learned ranker takes: train on 10,000 history items, rank 2,000 candidates.

Synthetic texts (titles and abstract-length bodies drawn from an LLM-engineering vocabulary);
positives lean to some topics so the model has something to learn. The bound is 1 s on one
core, training and ranking together: the learned taste (bot.edition.learned.learn_taste)
and the week's scoring with it (bot.edition.select.score_week), as compose and
``digestbot candidates`` run them once the store has read the items.

Run from the repository root: ``.venv/bin/python -m bench.ranker``.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime

# One core, as the bound says: the linear algebra libraries would otherwise use them all.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from bot.domain import Item, ItemContent, ItemKind  # noqa: E402
from bot.edition.learned import TasteHistory, learn_taste  # noqa: E402
from bot.edition.profile import load_profile  # noqa: E402
from bot.edition.select import score_week  # noqa: E402

HISTORY, POSITIVES, CANDIDATES = 10_000, 1_000, 2_000
BOUND_S = 1.0
WORDS = [
    "agent",
    "agents",
    "evaluation",
    "benchmark",
    "safety",
    "alignment",
    "retrieval",
    "context",
    "long",
    "reasoning",
    "code",
    "coding",
    "tool",
    "tools",
    "memory",
    "planning",
    "inference",
    "serving",
    "latency",
    "throughput",
    "quantization",
    "distillation",
    "fine-tuning",
    "preference",
    "reward",
    "model",
    "models",
    "language",
    "large",
    "vision",
    "multimodal",
    "robustness",
    "jailbreak",
    "injection",
    "prompt",
    "prompts",
    "harness",
    "workflow",
    "production",
    "deployment",
    "cache",
    "kv",
    "attention",
    "sparse",
    "mixture",
    "experts",
    "training",
    "data",
    "synthetic",
    "scaling",
    "laws",
    "token",
    "tokens",
    "decoding",
    "speculative",
    "verification",
    "proof",
    "theorem",
    "math",
    "graph",
    "search",
    "web",
    "browser",
]
TASTY = WORDS[:12]
AT = datetime(2026, 4, 13, tzinfo=UTC)
PROFILE = load_profile()


def synthetic(n: int, rng: random.Random, liked: bool) -> Item:
    """Return an item with a title and a ~1,000-character abstract."""
    vocabulary = TASTY * 3 + WORDS if liked else WORDS
    title = " ".join(rng.choice(vocabulary) for _ in range(9)).capitalize()
    body = " ".join(rng.choice(vocabulary) for _ in range(150)) + "."
    content = ItemContent(
        f"arxiv:2604.{n:05d}", ItemKind.PAPER, title, f"https://arxiv.org/abs/2604.{n:05d}",
        body, (), AT, f"2604.{n:05d}", 1, {}, f"hash{n}",
    )  # fmt: skip
    return Item(n, content, ("api-hf",), AT, AT)


def main() -> None:
    """Print the time of one training and ranking."""
    rng = random.Random(13)
    positives = tuple(synthetic(n, rng, liked=True) for n in range(POSITIVES))
    negatives = tuple(synthetic(n, rng, liked=False) for n in range(POSITIVES, HISTORY))
    candidates = [
        synthetic(n, rng, liked=rng.random() < 0.2) for n in range(HISTORY, HISTORY + CANDIDATES)
    ]
    history = TasteHistory(positives, negatives)
    learn_taste(history, candidates[:50], PROFILE)  # warm the imports, not the model
    timings, training = [], []
    for _ in range(3):
        started = time.perf_counter()
        tastes = learn_taste(history, candidates, PROFILE)
        trained = time.perf_counter()
        ranked = score_week(candidates, PROFILE, AT, tastes=tastes.tastes)
        timings.append(time.perf_counter() - started)
        training.append(trained - started)
    best, worst = min(timings), max(timings)
    print(
        f"Learned ranker: {HISTORY:,} history items ({POSITIVES:,} positives), "
        f"{CANDIDATES:,} candidates, one core"
    )
    print(f"  train + rank: best {best:.2f} s, worst {worst:.2f} s of 3 (bound {BOUND_S:.1f} s)")
    print(f"  of which training (learn_taste): {min(training):.2f} s to {max(training):.2f} s")
    print(
        f"  {len(ranked):,} candidates ranked; {'within' if worst <= BOUND_S else 'OVER'} the bound"
    )


if __name__ == "__main__":
    main()
