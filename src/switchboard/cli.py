from __future__ import annotations

import asyncio
import gc
import getpass
import os

import typer

from switchboard.config import get_settings

cli = typer.Typer(help="Switchboard: a bank's contact-center chat service.", no_args_is_help=True)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations (safe to run from several processes at once)."""
    from switchboard.db.migrate import upgrade

    asyncio.run(upgrade(get_settings().database_url, revision))
    typer.echo("database is up to date")


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    demo: bool = typer.Option(False, help="Load the demo bank first (into an empty database)."),
    workers: int = 1,
) -> None:
    """Migrate the database, then serve the API."""
    import structlog
    import uvicorn

    from switchboard.db.migrate import upgrade
    from switchboard.kit.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    asyncio.run(upgrade(settings.database_url))
    if demo:
        _load_demo()
    structlog.get_logger("switchboard").info(
        "serve", url=f"http://{host}:{port}/", api_docs="/api/v1/docs", workers=workers
    )
    # The modules loaded now live as long as the process: out of the collector's way, so a
    # full collection under load does not walk them every time (docs/performance.md).
    import switchboard.app  # noqa: F401

    gc.collect()
    gc.freeze()
    # SIGTERM: stop accepting, close WebSockets with 1012 (reconnect with after=), let in-flight
    # requests finish for up to shutdown_timeout_seconds, then run the application's shutdown.
    uvicorn.run(
        "switchboard.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # our own access line carries the request id (monitoring/requests.py)
        log_config=None,  # logging is ours: JSON lines, tokens redacted (kit/logs.py)
        proxy_headers=True,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )


@cli.command("create-admin")
def create_admin(
    login: str = typer.Option(..., help="Login of the new administrator."),
    full_name: str = typer.Option("Administrator", help="Full name."),
    password: str | None = typer.Option(
        None, help="Password (asked for when omitted; SWITCHBOARD_ADMIN_PASSWORD also works)."
    ),
) -> None:
    """Create an employee holding every permission."""
    from switchboard.bootstrap import create_admin as make_admin
    from switchboard.db.migrate import upgrade
    from switchboard.db.session import Database

    secret = password or os.environ.get("SWITCHBOARD_ADMIN_PASSWORD") or getpass.getpass()
    if len(secret) < 8:
        raise typer.BadParameter("the password needs at least 8 characters")
    settings = get_settings()

    async def run() -> int:
        await upgrade(settings.database_url)
        db = Database(settings.database_url)
        try:
            employee = await make_admin(db, login, secret, full_name)
            return employee.id
        finally:
            await db.dispose()

    typer.echo(f"administrator {login} created (id {asyncio.run(run())})")


def _load_demo() -> None:
    from switchboard.demo import load_demo

    settings = get_settings()
    logins = asyncio.run(load_demo(settings))
    if logins is None:
        typer.echo("the database already has data: demo not loaded")
        return
    typer.echo("Demo bank loaded. Employee logins (password for all: demo-password):")
    for line in logins:
        typer.echo(f"  {line}")


@cli.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    load_only: bool = typer.Option(False, help="Load the demo data and exit."),
) -> None:
    """Load a believable demo bank into an empty database, print the logins, and serve."""
    from switchboard.db.migrate import upgrade

    asyncio.run(upgrade(get_settings().database_url))
    _load_demo()
    if not load_only:
        serve(host=host, port=port, demo=False, workers=1)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
