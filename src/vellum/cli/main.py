"""The `vellum` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from vellum import __version__
from vellum.catalog.collections import CollectionFields, Collections
from vellum.catalog.organizations import OrganizationFields, Organizations
from vellum.cli.admin_cmd import describe, dublin_core_options, picked_dublin_core
from vellum.cli.admin_cmd import install as install_admin_commands
from vellum.cli.context import CliContext, pass_context
from vellum.errors import VellumError
from vellum.settings import Settings

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="VELLUM_DATA",
    default="vellum-data",
    show_default=True,
    help="Data directory (catalog, WARC files, indexes). Env: VELLUM_DATA.",
)
@click.version_option(__version__, prog_name="vellum")
@click.pass_context
def cli(ctx: click.Context, data: Path) -> None:
    """Vellum: archive web sites into WARC files and replay them."""
    ctx.obj = CliContext(Settings.from_env(data))


# organizations


@cli.group()
def org() -> None:
    """Partner organizations on whose behalf collections are made."""


@org.command("create")
@click.argument("name")
@click.option("--acronym", required=True, help="Short name, such as UNESCO.")
@click.option("--contact", default="", help="An e-mail address or a URL.")
@click.option("--logo-url", default="", help="The logo's http(s) URL.")
@pass_context
def org_create(obj: CliContext, name: str, acronym: str, contact: str, logo_url: str) -> None:
    """Add an organization NAME."""
    created = Organizations(obj.catalog).create(
        OrganizationFields(name, acronym, contact, logo_url)
    )
    console.print(f"Created organization {created.name} ({created.acronym})", markup=False)


@org.command("list")
@pass_context
def org_list(obj: CliContext) -> None:
    """List organizations."""
    table = Table("Acronym", "Name")
    for o in obj.catalog.organizations():
        table.add_row(o.acronym, o.name)
    console.print(table)


# collections


@cli.group()
def collection() -> None:
    """Collections of archived web sites."""


@collection.command("create")
@click.argument("slug")
@click.option("--org", "organization", required=True, help="Owning organization: name or acronym.")
@click.option("--title", required=True, help="Title shown in the banner and the portal.")
@click.option("--description", default="", help="What the collection holds.")
@click.option("--private", is_flag=True, help="Hide the collection from the public.")
@dublin_core_options
@pass_context
def collection_create(
    obj: CliContext,
    /,
    slug: str,
    organization: str,
    title: str,
    description: str,
    private: bool,
    embargo_days: int | None,
    **dc: tuple[str, ...],
) -> None:
    """Add a collection SLUG (lowercase letters, digits and '-'; used in replay URLs)."""
    fields = CollectionFields(
        title, organization, description, not private, picked_dublin_core(dc), embargo_days or 0
    )
    created = Collections(obj.catalog).create(slug, fields)
    console.print(f"Created collection {describe(created)}", markup=False)


@collection.command("list")
@pass_context
def collection_list(obj: CliContext) -> None:
    """List collections."""
    table = Table("Slug", "Title", "Organization", "Access")
    for c in obj.catalog.collections():
        table.add_row(c.slug, c.title, c.organization.acronym, "public" if c.public else "private")
    console.print(table)


@collection.command("set")
@click.argument("slug")
@click.option(
    "--public/--private",
    "public",
    default=None,
    help="Open the collection to everyone, or only to its organization.",
)
@pass_context
def collection_set(obj: CliContext, slug: str, public: bool | None) -> None:
    """Change a collection's access (effective on every route at once)."""
    if public is None:
        raise click.UsageError("nothing to change: give --public or --private")
    changed = obj.catalog.set_collection_public(slug, public)
    console.print(f"Collection {changed.slug} is now {'public' if public else 'private'}")


# replay


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="UI port."
)
@click.option(
    "--replay-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port of the replay origin (archived pages).  [default: port+1]",
)
@click.option(
    "--ui-origin",
    envvar="VELLUM_UI_ORIGIN",
    default=None,
    help="Public origin of the UI.  [default: http://localhost:PORT] Env: VELLUM_UI_ORIGIN.",
)
@click.option(
    "--replay-origin",
    envvar="VELLUM_REPLAY_ORIGIN",
    default=None,
    help="Public origin of archived pages, a host name apart from the UI's.  "
    "[default: http://127.0.0.1:REPLAY_PORT] Env: VELLUM_REPLAY_ORIGIN.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes serving requests (one per core uses every core).",
)
@pass_context
def serve(
    obj: CliContext,
    host: str,
    port: int,
    replay_port: int | None,
    ui_origin: str | None,
    replay_origin: str | None,
    workers: int,
) -> None:
    """Serve every collection: the UI and banner on one origin, archived pages on another."""
    from vellum.replay.app import create_app
    from vellum.replay.server import bind_pair, with_origins
    from vellum.replay.server import serve as run

    ui_sock, replay_sock = bind_pair(host, port, replay_port, reuse_port=workers > 1)
    try:
        settings = with_origins(obj.settings, host, ui_sock, replay_sock, ui_origin, replay_origin)
    except VellumError:
        ui_sock.close()
        replay_sock.close()
        raise
    console.print(
        f"Vellum replay on {settings.ui_origin}/ (archived pages from "
        f"{settings.replay_origin})  (Ctrl-C stops)",
        markup=False,
        highlight=False,
    )
    from vellum.replay.workers import fork_workers, stop_workers

    # Fork before the catalog is opened: each process opens its own.
    parent = os.getpid()
    children, socks = fork_workers(workers, [ui_sock, replay_sock])
    scheduler = None
    if os.getpid() == parent:  # crawl jobs are started by the parent process only
        from vellum.jobs.scheduler import Scheduler

        scheduler = Scheduler(settings, obj.catalog)
        scheduler.start()
    try:
        run(create_app(settings, obj.catalog), *socks)
    finally:
        if scheduler is not None:
            scheduler.stop()
        stop_workers(children)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Replay address.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Replay port."
)
@pass_context
def demo(obj: CliContext, host: str, port: int) -> None:
    """Crawl the bundled UNESCO partner directory and replay it."""
    from vellum.demo.runner import run_demo

    run_demo(obj.settings, obj.catalog, console, host=host, port=port)


def main() -> None:
    """Entry point: expected failures print one line on stderr and exit non-zero."""
    try:
        cli.main(prog_name="vellum", standalone_mode=False)
    except click.exceptions.Abort:
        errors.print("aborted")
        sys.exit(130)
    except click.UsageError as exc:
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        errors.print(f"error: {exc.format_message()}{where}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        errors.print(f"error: {exc.format_message()}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except VellumError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)


from vellum.cli.crawl_cmd import crawl  # noqa: E402
from vellum.cli.crawljob_cmd import crawl_job, worker  # noqa: E402
from vellum.cli.db_cmd import db  # noqa: E402
from vellum.cli.export_cmd import export  # noqa: E402
from vellum.cli.import_cmd import import_warcs  # noqa: E402
from vellum.cli.index_cmd import index  # noqa: E402
from vellum.cli.search_cmd import search  # noqa: E402
from vellum.cli.seed_cmd import seed  # noqa: E402
from vellum.cli.token_cmd import token  # noqa: E402
from vellum.cli.user_cmd import user  # noqa: E402

cli.add_command(crawl)
cli.add_command(import_warcs, "import")
cli.add_command(export)
cli.add_command(token)
cli.add_command(user)
cli.add_command(index)
cli.add_command(search)
cli.add_command(seed)
cli.add_command(crawl_job)
cli.add_command(db)
cli.add_command(worker)
install_admin_commands(cli, org, collection)
