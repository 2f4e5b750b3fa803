"""LLM News Digest: the platform-free core (domain, stages, commands, composition root)."""
