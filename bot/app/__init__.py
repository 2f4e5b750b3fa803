"""The composition root: wiring, the long-running `run`, the typer CLI and console printing.

The only part of the project that imports adapters, storage and SDKs; everything it builds is
handed to the core (`bot.ingest`, `bot.edition`, `bot.delivery`, `bot.commands`) through the
Protocols in the ``ports`` modules.
"""
