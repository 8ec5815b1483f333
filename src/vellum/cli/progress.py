"""A live crawl display: URLs done, URLs waiting, the last URL and its status."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from vellum.capture.crawler import CrawlEvent


class CrawlProgress:
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
        self._started = False

    def update(self, event: CrawlEvent) -> None:
        if not self._started:  # shown from the first fetch on, not while input is checked
            self._progress.start()
            self._started = True
        self._done += 1
        status = str(event.status) if event.status is not None else event.message
        last = f"{status} {event.url}"
        if len(last) > 70:
            last = last[:67] + "..."
        self._progress.update(
            self._task, completed=self._done, total=self._done + event.queued, last=last
        )

    def __enter__(self) -> CrawlProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._started:
            self._progress.stop()
