"""Progress displays for ``digestbot compose`` and ``publish``, on stderr.

Shown only on a terminal and without ``--quiet``: a pipe, a log file or cron gets the
command's result lines and nothing else. Compose shows its steps ("summaries 5/12"), publish
the messages of each destination ("slack:C0123 5/13").
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from bot.delivery.deliver import Destination


def wanted(console: Console, quiet: bool) -> bool:
    """Tell whether to show a progress display on ``console``."""
    return console.is_terminal and not quiet


class _Bars:
    """One bar per name, made when first told of it."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,  # the result lines that follow say what was done
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _Bars:
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()

    def show(self, name: str, done: int, total: int | None) -> None:
        task = self._tasks.get(name)
        if task is None:
            task = self._tasks[name] = self._progress.add_task(name, total=total)
        self._progress.update(task, completed=done, total=total)


class ComposeBars(_Bars):
    """``digestbot compose``: ranking, summaries one by one, title and intro."""

    def __enter__(self) -> ComposeBars:
        super().__enter__()
        return self

    def step(self, name: str, done: int, total: int | None) -> None:
        """Show that ``done`` of ``total`` of step ``name`` are finished."""
        self.show(name, done, total)


class PublishBars(_Bars):
    """``digestbot publish``: the messages of each destination."""

    def __enter__(self) -> PublishBars:
        super().__enter__()
        return self

    def part(self, destination: Destination, done: int, total: int) -> None:
        """Show that ``destination`` has ``done`` of its ``total`` messages."""
        self.show(str(destination), done, total)


class NoBars:
    """The display when none is wanted: hears everything, shows nothing."""

    def __enter__(self) -> NoBars:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def step(self, name: str, done: int, total: int | None) -> None:
        """Show nothing."""

    def part(self, destination: Destination, done: int, total: int) -> None:
        """Show nothing."""
