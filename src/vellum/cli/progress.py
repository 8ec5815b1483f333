"""Live progress bars of the CLI, shown from the first piece of work on."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from vellum.capture.crawler import CrawlEvent


class LazyProgress:
    """A Rich progress display that appears with the first update, not while input is checked.

    Subclasses make `self._progress` and call `self._show()` before each update; leaving
    the `with` block stops the display if it was ever shown.
    """

    _progress: Progress
    _started: bool = False

    def _show(self) -> None:
        if not self._started:
            self._progress.start()
            self._started = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._started:
            self._progress.stop()


class CrawlProgress(LazyProgress):
    """Feeds crawl events into a Rich progress bar (total grows as links are found)."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]crawling"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[last]}", markup=False),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task("crawl", total=None, last="")
        self._done = 0

    def update(self, event: CrawlEvent) -> None:
        self._show()
        self._done += 1
        status = str(event.status) if event.status is not None else event.message
        last = f"{status} {event.url}"
        if len(last) > 70:
            last = last[:67] + "..."
        self._progress.update(
            self._task, completed=self._done, total=self._done + event.queued, last=last
        )
