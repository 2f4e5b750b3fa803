"""``digestbot import``: past editions from files into the store, one outcome per file.

Parsing is bot.edition.history's; storing (matching items, creating the rest, refusing to
replace an edition) is the store's, through `HistoryStore`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.edition.history import HistoryFormatError, ImportOutcome, ImportStatus, read_history
from bot.edition.ports import HistoryStore


async def import_files(
    store: HistoryStore, paths: Sequence[Path], at: datetime
) -> list[ImportOutcome]:
    """Import each file as a past edition; one outcome per file, in order.

    Each file is parsed whole before anything of it is stored, and stored in one transaction:
    a malformed or refused file imports nothing, and never stops the other files.
    """
    outcomes = []
    for path in paths:
        try:
            edition = read_history(path)
        except HistoryFormatError as exc:
            outcomes.append(ImportOutcome(ImportStatus.MALFORMED, str(exc)))
            continue
        outcomes.append(await store.import_edition(edition, at))
    return outcomes
