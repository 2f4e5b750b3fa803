"""Adapters: translate outside systems (HTTP sources, chat platforms, LLMs) to the core's types."""
