"""`vellum crawl-job`: crawl jobs run by worker processes (and `vellum worker`)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from vellum.cli.context import CliContext, pass_context
from vellum.errors import VellumError
from vellum.jobs.queue import Job, JobQueue

console = Console(soft_wrap=True, highlight=False)


@click.group("crawl-job")
def crawl_job() -> None:
    """Crawl jobs: start one now (or as a test), list, pause, stop, resume, save, discard.

    `vellum serve` runs queued jobs in worker processes; `start --run` runs one here."""


@crawl_job.command("start")
@click.argument("slug")
@click.option("--seed", "seed_ids", type=int, multiple=True, help="Only this seed (repeatable).")
@click.option("--test", is_flag=True, help="A test crawl: kept in quarantine until saved.")
@click.option("--run", is_flag=True, help="Run it in this process and wait (no server needed).")
@pass_context
def job_start(obj: CliContext, slug: str, seed_ids: tuple[int, ...], test: bool, run: bool) -> None:
    """Queue a crawl of collection SLUG's active seeds (or of the --seed given)."""
    queue = JobQueue(obj.catalog)
    job = queue.enqueue(slug, list(seed_ids) or None, test=test, requested_by="cli")
    kind = "test crawl" if test else "crawl"
    console.print(f"Queued {kind} job {job.id} of {slug} ({len(job.seed_ids)} seed(s))")
    if not run:
        console.print(
            "'vellum serve' starts it; or run it now: vellum crawl-job run " + str(job.id)
        )
        return
    _run(obj, job.id)


@crawl_job.command("run")
@click.argument("job_id", type=int)
@pass_context
def job_run(obj: CliContext, job_id: int) -> None:
    """Run queued job JOB_ID in this process and wait for its end."""
    _run(obj, job_id)


def _run(obj: CliContext, job_id: int) -> None:
    from vellum.jobs.worker import run_job

    if not JobQueue(obj.catalog).claim(job_id):
        raise VellumError(f"job {job_id} is not queued (see 'vellum crawl-job show {job_id}')")
    done = run_job(obj.settings, obj.catalog, job_id)
    _print(done)
    if done.state not in ("finished", "paused", "stopped"):
        raise VellumError(f"job {job_id} {done.state}: {done.error or 'see its report'}")


@crawl_job.command("list")
@click.argument("slug")
@pass_context
def job_list(obj: CliContext, slug: str) -> None:
    """List the crawl jobs of collection SLUG, newest first."""
    obj.catalog.get_collection(slug)
    table = Table("Job", "State", "Kind", "Seeds", "Requested", "Crawl", "Pages", "Bytes")
    for j in JobQueue(obj.catalog).jobs(slug):
        table.add_row(
            str(j.id),
            j.state,
            ("test " if j.test else "") + ("scheduled" if j.trigger == "schedule" else "now"),
            str(len(j.seed_ids)),
            f"{j.requested:%Y-%m-%d %H:%M}",
            str(j.crawl_id or "-"),
            f"{j.progress.get('pages', 0):,}",
            f"{j.progress.get('bytes', 0):,}",
        )
    console.print(table)


@crawl_job.command("show")
@click.argument("job_id", type=int)
@pass_context
def job_show(obj: CliContext, job_id: int) -> None:
    """Show job JOB_ID: its state and progress (the report: vellum crawl report CRAWL)."""
    _print(JobQueue(obj.catalog).get(job_id))


@crawl_job.command("pause")
@click.argument("job_id", type=int)
@pass_context
def job_pause(obj: CliContext, job_id: int) -> None:
    """Pause job JOB_ID: its worker stops cleanly; resume continues the crawl."""
    _print(JobQueue(obj.catalog).pause(job_id))


@crawl_job.command("stop")
@click.argument("job_id", type=int)
@pass_context
def job_stop(obj: CliContext, job_id: int) -> None:
    """Stop job JOB_ID for good; what it wrote is kept and indexed."""
    _print(JobQueue(obj.catalog).stop(job_id))


@crawl_job.command("resume")
@click.argument("job_id", type=int)
@pass_context
def job_resume(obj: CliContext, job_id: int) -> None:
    """Queue paused or interrupted job JOB_ID again; it continues its crawl."""
    _print(JobQueue(obj.catalog).resume(job_id))


@crawl_job.command("save")
@click.argument("job_id", type=int)
@pass_context
def job_save(obj: CliContext, job_id: int) -> None:
    """Save test crawl JOB_ID into its collection (indexed and searchable)."""
    from vellum.jobs.quarantine import save_test_crawl

    saved = save_test_crawl(obj.settings, obj.catalog, job_id)
    console.print(
        f"Saved test job {job_id} into {saved.job.collection_slug}: {', '.join(saved.files)}"
    )
    if saved.search_note:
        console.print(f"warning: {saved.search_note}")


@crawl_job.command("discard")
@click.argument("job_id", type=int)
@pass_context
def job_discard(obj: CliContext, job_id: int) -> None:
    """Delete what test crawl JOB_ID captured."""
    from vellum.jobs.quarantine import discard_test_crawl

    job = discard_test_crawl(obj.settings, obj.catalog, job_id)
    console.print(f"Discarded test job {job.id} of {job.collection_slug}")


@click.command("worker", hidden=True)
@click.option("--job", "job_id", type=int, required=True, help="The job to run.")
@pass_context
def worker(obj: CliContext, job_id: int) -> None:
    """Run crawl job JOB (claimed by the scheduler of `vellum serve`)."""
    from vellum.jobs.worker import run_job

    _print(run_job(obj.settings, obj.catalog, job_id))


def _print(job: Job) -> None:
    p = job.progress
    kind = "test crawl" if job.test else "crawl"
    line = f"Job {job.id} ({kind} of {job.collection_slug}): {job.state}"
    if job.crawl_id:
        line += f", crawl {job.crawl_id}"
    if p:
        line += (
            f"; {p.get('pages', 0):,} pages, {p.get('bytes', 0):,} bytes, "
            f"{p.get('queued', 0):,} queued, {p.get('errors', 0):,} errors"
        )
    console.print(line, markup=False)
    if job.error:
        console.print(f"  {job.error}", markup=False)
