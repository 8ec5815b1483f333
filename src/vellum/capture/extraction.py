"""Link extraction and compression beside the crawl loop.

Parsing HTML is the largest part of the crawler's work per page, and it holds the GIL.
`Preparer` finds the first `INLINE_DOCUMENTS` documents' links in this process (a small
crawl never pays for starting a process), then hands each HTML page, with the plan for
its records, to one worker process that extracts the links and makes and compresses the
records (`vellum.capture.grouping.make_group`), so that the event loop goes on fetching
and writing on one core while the other parses. While the worker has `MAX_PENDING`
documents waiting, the next one is handled here instead, so that both cores stay busy.
Other responses are compressed in a thread (zlib and hashlib release the GIL). The
functions are the same, so the records are the same either way; if the worker cannot
start or dies, the work goes on here.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from vellum.capture.grouping import Links, Plan, make_group, make_records
from vellum.capture.outlinks import HTML_TYPES, outlinks
from vellum.warc.exchange import HttpExchange
from vellum.warc.writer import PreparedGroup, prepare_group

INLINE_DOCUMENTS = 200  # documents parsed here before the worker process starts
MIN_WORKER_BYTES = 2048  # smaller documents are parsed here: sending them costs more
# Documents waiting for the worker beyond which the next one is parsed here: so that
# neither core idles while the other has a backlog (parsing is the larger share of a
# page's work, so the worker alone would be the bottleneck).
MAX_PENDING = 3
_WORKER_FAILURES = (BrokenProcessPool, OSError, RuntimeError, AssertionError)


def worth_sending(path: str, exchange: HttpExchange) -> bool:
    """Whether the response is HTML large enough to be parsed in the worker."""
    if not 200 <= exchange.status < 300 or path.endswith(("P", "M", "E")):
        return False
    if len(exchange.body) < MIN_WORKER_BYTES:
        return False
    mime = exchange.mime.lower()
    return mime in HTML_TYPES or (not mime and exchange.body.lstrip()[:1] == b"<")


def _worker_init(parent: int) -> None:
    """In the worker: Ctrl-C is the main process's to handle (it stops the worker), and
    the worker ends when the crawl process does, even by `kill -9`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="vellum-parent-watch", daemon=True).start()


class Preparer:
    """Links and compressed records of exchanges, made off the event loop."""

    def __init__(self, inline_documents: int | None = None) -> None:
        self._inline = INLINE_DOCUMENTS if inline_documents is None else inline_documents
        self._seen = 0
        self._pool: Executor | None = None
        self._usable = (os.cpu_count() or 1) > 1 and not multiprocessing.current_process().daemon
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="vellum-warc-gzip")
        self.sent = 0  # documents the worker process handled
        self._pending = 0  # documents sent to the worker and not back yet

    async def outlinks(self, path: str, exchange: HttpExchange) -> Links:
        """Every URL the response points to, with its hop letter (see `outlinks`)."""
        pool = self._worker(path, exchange)
        if pool is not None:
            try:
                found = await asyncio.get_running_loop().run_in_executor(
                    pool, outlinks, path, exchange
                )
            except _WORKER_FAILURES:
                self._usable = False  # the worker died or could not start: go on here
            else:
                self.sent += 1
                return found
        return outlinks(path, exchange)

    async def group(self, plan: Plan, exchange: HttpExchange) -> tuple[Links, PreparedGroup]:
        """The exchange's links and its records, compressed (see `make_group`)."""
        loop = asyncio.get_running_loop()
        pool = self._worker(plan.path, exchange)
        if pool is not None:
            self._pending += 1
            try:
                made = await loop.run_in_executor(pool, make_group, plan, exchange)
            except _WORKER_FAILURES:
                self._usable = False
            else:
                self.sent += 1
                return made
            finally:
                self._pending -= 1
        links = outlinks(plan.path, exchange)
        records = make_records(plan, exchange, links)
        group = await loop.run_in_executor(self._thread, prepare_group, records, plan.gzip_level)
        return links, group

    def _worker(self, path: str, exchange: HttpExchange) -> Executor | None:
        """The worker process, if this exchange should go there."""
        if not self._usable or not worth_sending(path, exchange):
            return None
        if self._pending >= MAX_PENDING:
            return None  # the worker has enough to do: this core takes this one
        self._seen += 1
        if self._seen <= self._inline:
            return None
        if self._pool is None:
            try:
                self._pool = ProcessPoolExecutor(
                    1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_init,
                    initargs=(os.getpid(),),
                )
            except _WORKER_FAILURES:
                self._usable = False
        return self._pool

    def close(self) -> None:
        """Stop the worker process and thread."""
        self._thread.shutdown(wait=True, cancel_futures=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
