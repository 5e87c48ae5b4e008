"""`flask demo …` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.transactions import unit_of_work
from resources.demo import DemoFileError, catalogue_is_empty, load_demo

demo_cli = AppGroup("demo", help="The demo catalogue.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the catalogue already has resources.")
def load(if_empty: bool) -> None:
    """Load the four universities' demo catalogue and accounts (safe to run again)."""
    if if_empty and not catalogue_is_empty():
        click.echo("The catalogue already has resources; demo not loaded.")
        return
    try:
        with unit_of_work():
            summary = load_demo()
    except DemoFileError as exc:
        raise click.ClickException(f"demo not loaded: {exc}") from exc
    click.echo(
        f"Demo catalogue: {summary['institutions']} institutions, {summary['sites']} sites, "
        f"{summary['resources']} resources ({summary['created']} new), {summary['users']} demo accounts."
    )
