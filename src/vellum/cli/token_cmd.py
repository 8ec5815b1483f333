"""`vellum token`: API tokens that let scripts see an organization's private collections."""

from __future__ import annotations

import click
from rich.console import Console

from vellum.cli.context import CliContext, pass_context

console = Console(highlight=False)


@click.group()
def token() -> None:
    """API tokens for scripts (WASAPI, CDX, search)."""


@token.command("create")
@click.argument("organization")
@click.option("--label", default="", help="What the token is for, to recognise it later.")
@pass_context
def token_create(obj: CliContext, organization: str, label: str) -> None:
    """Print a new token for ORGANIZATION (name or acronym); it is shown only once."""
    org = obj.catalog.find_organization(organization)
    secret = obj.catalog.create_api_token(org.acronym, label)
    console.print(f"API token for {org.name} (keep it secret; it is not shown again):")
    click.echo(secret)
