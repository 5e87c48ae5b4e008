"""CLI wiring: each domain package owns its commands; this registers them."""

from __future__ import annotations

from flask import Flask

from accounts.cli import users_cli
from app.scheduler import register_scheduler_commands
from resources.cli import demo_cli


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    register_scheduler_commands(app)
