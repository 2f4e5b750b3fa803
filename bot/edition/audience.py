"""Who should read an item: a closing sentence drawn from the editorial profile's topics.

The profile (prompts/editorial_profile.md) names the threads readers follow; each topic here
has the work it stands for ("building agents"). A topic the profile adds later without a
phrase here still gets a sentence from its name. The template is chosen by a stable hash of
the item so a week's sentences vary without being random between runs.
"""

from __future__ import annotations

import zlib
from collections import Counter

from bot.edition.profile import EditorialProfile

# What a reader following each topic works on, as it reads after "teams ...".
_WORK = {
    "agents": "building agents and tool-using systems",
    "evaluation": "running evaluations and benchmarks",
    "security": "securing deployed models",
    "retrieval": "building retrieval and search pipelines",
    "inference": "serving models under cost and latency budgets",
    "training": "fine-tuning and post-training their own models",
    "reasoning": "working on reasoning and test-time compute",
    "coding": "shipping coding assistants and developer tools",
    "context": "managing long context and memory",
    "multimodal": "working with vision and audio models",
    "models": "choosing which models to adopt",
}
_TEMPLATES = (
    "Worth reading for teams {work}.",
    "Useful for engineers {work}.",
    "A good read for anyone {work}.",
    "Recommended for teams {work}.",
    "Engineers {work} should take a look.",
    "Relevant to anyone {work}.",
)
_FALLBACK = (
    "Worth a look for engineers who build with language models.",
    "Useful background for teams shipping LLM features.",
)


def _work(name: str) -> str:
    return _WORK.get(name, f"working on {name.replace('-', ' ')}")


def strongest_topics(profile: EditorialProfile, title: str, text: str, n: int = 2) -> list[str]:
    """Return the item's ``n`` strongest profile topics, title hits weighing triple."""
    _, hits = profile.fit(title, text)
    weights = {topic.name: topic.weight for topic in profile.topics}
    ranked: Counter[str] = Counter({name: hits[name] * weights[name] for name in hits})
    return [name for name, _ in ranked.most_common(n)]


def audience_sentence(profile: EditorialProfile, title: str, text: str) -> str:
    """Return one sentence saying who should read the item, from its strongest topics."""
    topics = strongest_topics(profile, title, text)
    _, hits = profile.fit(title, text)
    # A second thread is named only when it is nearly as strong as the first: a passing
    # mention should not widen who the item is for.
    topics = [t for t in topics if hits[t] * 2 >= hits[topics[0]]]
    seed = zlib.crc32(title.encode("utf-8"))
    if not topics:
        return _FALLBACK[seed % len(_FALLBACK)]
    work = _work(topics[0])
    if len(topics) > 1:
        second = _work(topics[1])
        # "building agents and ... and running evals" reads badly: join the two with "or".
        work = f"{work} or {second}"
    return _TEMPLATES[seed % len(_TEMPLATES)].format(work=work)
