"""`vellum org edit/delete`, `vellum collection edit/delete` and `vellum exclude ...`.

The Dublin Core options are shared by `collection create` (in cli/main.py) and
`collection edit`: each element may be given several times (`--subject a --subject b`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from vellum.catalog.collections import (
    DC_ELEMENTS,
    CollectionFields,
    CollectionRecord,
    Collections,
    DublinCore,
)
from vellum.catalog.exclusions import Exclusions
from vellum.catalog.organizations import OrganizationFields, Organizations
from vellum.cli.context import CliContext, pass_context

__all__ = ["describe", "dublin_core_options", "exclude", "install", "picked_dublin_core"]

console = Console(soft_wrap=True)

F = Callable[..., Any]


def dublin_core_options(command: F) -> F:
    """Add `--subject`, `--creator`, ... (each repeatable) and `--embargo-days` to a command."""
    for element in reversed(DC_ELEMENTS):
        command = click.option(
            f"--{element}",
            f"dc_{element}",
            multiple=True,
            help=f"Dublin Core {element} (repeat for several values).",
        )(command)
    return click.option(
        "--embargo-days",
        type=click.IntRange(0, 36_500),
        default=None,
        help="No replay for the public until this many days after capture (0: none).",
    )(command)


def picked_dublin_core(options: dict[str, Any]) -> DublinCore:
    """The Dublin Core elements given on the command line (only those given)."""
    return {e: tuple(options[f"dc_{e}"]) for e in DC_ELEMENTS if options.get(f"dc_{e}")}


def describe(record: CollectionRecord) -> str:
    access = "public" if record.public else "private"
    embargo = f", embargo {record.embargo_days} days" if record.embargo_days else ""
    return f"{record.slug} ({record.title!r}, {record.organization}, {access}{embargo})"


# organizations


@click.command("edit")
@click.argument("organization")
@click.option("--name", help="New name.")
@click.option("--acronym", help="New acronym.")
@click.option("--contact", help="An e-mail address or a URL.")
@click.option("--logo-url", help="The logo's http(s) URL.")
@pass_context
def org_edit(
    obj: CliContext,
    /,
    organization: str,
    name: str | None,
    acronym: str | None,
    contact: str | None,
    logo_url: str | None,
) -> None:
    """Change an ORGANIZATION (name or acronym)."""
    orgs = Organizations(obj.catalog)
    old = orgs.get(organization)
    fields = OrganizationFields(
        name if name is not None else old.name,
        acronym if acronym is not None else old.acronym,
        contact if contact is not None else old.contact,
        logo_url if logo_url is not None else old.logo_url,
    )
    new = orgs.update(old.id, fields)
    console.print(f"Organization {new.name} ({new.acronym}) saved", markup=False)


@click.command("delete")
@click.argument("organization")
@pass_context
def org_delete(obj: CliContext, organization: str) -> None:
    """Delete an ORGANIZATION that owns no collection."""
    gone = Organizations(obj.catalog).delete(organization)
    console.print(f"Deleted organization {gone.name} ({gone.acronym})", markup=False)


# collections


@click.command("edit")
@click.argument("slug")
@click.option("--title", help="New title.")
@click.option("--description", help="New description.")
@click.option("--org", "organization", help="New owning organization: name or acronym.")
@click.option("--public/--private", "public", default=None, help="Who may see it.")
@click.option(
    "--clear",
    multiple=True,
    type=click.Choice(DC_ELEMENTS),
    help="Empty a Dublin Core element (repeatable).",
)
@dublin_core_options
@pass_context
def collection_edit(
    obj: CliContext,
    /,
    slug: str,
    title: str | None,
    description: str | None,
    organization: str | None,
    public: bool | None,
    clear: tuple[str, ...],
    embargo_days: int | None,
    **dc: tuple[str, ...],
) -> None:
    """Change a collection SLUG; a Dublin Core element given replaces its values."""
    collections = Collections(obj.catalog)
    old = collections.get(slug)
    merged = dict(old.dublin_core)
    for element in clear:
        merged.pop(element, None)
    merged.update(picked_dublin_core(dc))
    fields = CollectionFields(
        title if title is not None else old.title,
        organization if organization is not None else old.organization,
        description if description is not None else old.description,
        public if public is not None else old.public,
        merged,
        embargo_days if embargo_days is not None else old.embargo_days,
    )
    console.print(f"Saved collection {describe(collections.update(slug, fields))}", markup=False)


@click.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def collection_delete(obj: CliContext, slug: str, yes: bool) -> None:
    """Delete a collection SLUG; its directory is moved to <data>/trash/, never removed."""
    collections = Collections(obj.catalog)
    record = collections.get(slug)
    if not yes:
        click.confirm(
            f"Delete collection {record.slug} ({record.title!r})? Its files are moved aside",
            abort=True,
        )
    moved = collections.delete(slug, obj.settings.data_dir)
    where = f"; its files were moved to {moved}" if moved else "; it had no files"
    console.print(f"Deleted collection {slug}{where}", markup=False)


# exclusions


@click.group()
def exclude() -> None:
    """Exclusions (take-downs): URLs, SURT prefixes or hosts hidden from a collection."""


@exclude.command("add")
@click.argument("slug")
@click.argument("url")
@click.option("--prefix", "kind", flag_value="prefix", help="Every URL starting with URL.")
@click.option("--host", "kind", flag_value="host", help="Every URL of the host URL.")
@click.option("--reason", required=True, help="Why (for curators; never shown publicly).")
@pass_context
def exclude_add(obj: CliContext, slug: str, url: str, kind: str | None, reason: str) -> None:
    """Exclude URL (or a prefix, or a host) from collection SLUG, effective at once."""
    added = Exclusions(obj.catalog).add(slug, kind or "url", url, reason, by="operator")
    console.print(
        f"Exclusion {added.id}: {added.kind} {added.value} excluded from {slug}", markup=False
    )


@exclude.command("list")
@click.argument("slug")
@pass_context
def exclude_list(obj: CliContext, slug: str) -> None:
    """List the exclusions of collection SLUG."""
    table = Table("Id", "Kind", "SURT", "Given", "Reason", "By", "Added (UTC)")
    for x in Exclusions(obj.catalog).list(slug):
        when = x.created.strftime("%Y-%m-%d %H:%M")
        table.add_row(str(x.id), x.kind, x.value, x.original, x.reason, x.created_by, when)
    console.print(table, markup=False)


@exclude.command("remove")
@click.argument("exclusion_id", metavar="ID", type=int)
@pass_context
def exclude_remove(obj: CliContext, exclusion_id: int) -> None:
    """Lift exclusion ID: its captures are visible again at once."""
    gone = Exclusions(obj.catalog).remove(exclusion_id)
    console.print(
        f"Lifted exclusion {gone.id} ({gone.kind} {gone.value}) of {gone.collection_slug}",
        markup=False,
    )


def install(cli: click.Group, org: click.Group, collection: click.Group) -> None:
    """Register these commands under `vellum`, `vellum org` and `vellum collection`."""
    org.add_command(org_edit)
    org.add_command(org_delete)
    collection.add_command(collection_edit)
    collection.add_command(collection_delete)
    cli.add_command(exclude)
