"""`vellum user`: people who log in to the service, their passwords and roles."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vellum.catalog.users import ROLES, Users, check_name, check_password
from vellum.cli.context import CliContext, pass_context
from vellum.errors import InvalidInput

console = Console(highlight=False, soft_wrap=True)

_STDIN_HELP = "Read the password from the first line of standard input (for scripts)."


@click.group()
def user() -> None:
    """Users who log in to the web interface."""


@user.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make a site administrator (sees and manages all).")
@click.option("--org", "organization", help="Organization (name or acronym) to join.")
@click.option("--role", type=click.Choice(ROLES), help="Role in --org: curator or viewer.")
@click.option("--password-stdin", is_flag=True, help=_STDIN_HELP)
@pass_context
def user_create(
    obj: CliContext,
    name: str,
    admin: bool,
    organization: str | None,
    role: str | None,
    password_stdin: bool,
) -> None:
    """Add a user NAME; the password is asked twice (hidden) unless --password-stdin."""
    name = check_name(name)
    if (organization is None) != (role is None):
        raise InvalidInput("give --org and --role together (e.g. --org UNESCO --role viewer)")
    org = obj.catalog.find_organization(organization) if organization else None
    users = Users(obj.catalog)
    if any(u.name.lower() == name.lower() for u in users.users()):
        raise InvalidInput(f"a user named {name!r} already exists")
    password = _read_password(password_stdin)
    created = users.create(name, password, admin=admin)
    if org is not None and role is not None:
        created = users.add_membership(created.name, org.acronym, role)
    what = "administrator" if created.admin else "user"
    roles = "".join(f", {m.role} of {m.organization.acronym}" for m in created.memberships)
    console.print(escape(f"Created {what} {created.name}{roles}"))


@user.command("list")
@pass_context
def user_list(obj: CliContext) -> None:
    """List users with their roles."""
    table = Table("Name", "Admin", "Organizations")
    for u in Users(obj.catalog).users():
        roles = ", ".join(f"{m.organization.acronym} ({m.role})" for m in u.memberships)
        table.add_row(escape(u.name), "yes" if u.admin else "", escape(roles) or "-")
    console.print(table)


@user.command("grant")
@click.argument("name")
@click.option("--org", "organization", required=True, help="Organization: name or acronym.")
@click.option("--role", type=click.Choice(ROLES), required=True, help="curator or viewer.")
@pass_context
def user_grant(obj: CliContext, name: str, organization: str, role: str) -> None:
    """Make user NAME curator or viewer of an organization (replacing an earlier role)."""
    changed = Users(obj.catalog).add_membership(name, organization, role)
    roles = ", ".join(f"{m.role} of {m.organization.acronym}" for m in changed.memberships)
    console.print(escape(f"{changed.name} is now {roles}"))


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=_STDIN_HELP)
@pass_context
def user_passwd(obj: CliContext, name: str, password_stdin: bool) -> None:
    """Set a new password for user NAME; every session of that user is logged out."""
    users = Users(obj.catalog)
    found = users.get(name)
    changed = users.set_password(found.name, _read_password(password_stdin))
    console.print(escape(f"Password of {changed.name} changed; their sessions were logged out"))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt="Repeat the password"
        )
    check_password(password)
    return password
