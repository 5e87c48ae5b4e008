"""`flask users …` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from accounts import services
from accounts.models import Affiliation, Role
from app.errors import InvalidInput
from app.transactions import unit_of_work

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters.")
@click.option("--institution", required=True, help="UVT, UPT, UMFT or USVT.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.MEMBER.value, show_default=True)
@click.option(
    "--affiliation",
    type=click.Choice([a.value for a in Affiliation]),
    default=Affiliation.STAFF.value,
    show_default=True,
)
@click.option("--name", "full_name", default="", help="Full name shown in the app.")
def create_user(email: str, password: str, institution: str, role: str, affiliation: str, full_name: str) -> None:
    """Create a user of INSTITUTION with EMAIL."""
    try:
        with unit_of_work():
            user = services.create_user(
                email=email,
                password=password,
                institution_code=institution,
                role=role,
                affiliation=affiliation,
                full_name=full_name,
            )
    except InvalidInput as exc:
        raise click.ClickException(str(exc.detail)) from exc
    click.echo(f"Created {user.role} {user.email} at {user.institution.code} (id {user.id}).")
