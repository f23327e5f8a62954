"""The ``qbd-sync`` command line (CONTRACT.md section 7).

Every failure is one actionable line on stderr: exit 2 for usage and configuration errors,
1 for runtime ones. ``--debug`` shows the traceback as well.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from processors.errors import QbdSyncError

__all__ = ["app", "main"]

app = typer.Typer(
    name="qbd-sync",
    help="Keep QuickBooks Desktop in step with your app: Kafka events in, Conductor writes out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
dlq_app = typer.Typer(help="Inspect work parked while a company's QuickBooks was unreachable.")
companies_app = typer.Typer(help="Companies (QuickBooks company files) and their connection state.")
mappings_app = typer.Typer(help="Bulk app-id to QuickBooks-id mappings.")
schemas_app = typer.Typer(help="Event schemas (JSON Schema and AsyncAPI).")
app.add_typer(dlq_app, name="dlq")
app.add_typer(companies_app, name="companies")
app.add_typer(mappings_app, name="mappings")
app.add_typer(schemas_app, name="schemas")

_state: dict[str, Any] = {"debug": False}
_R = TypeVar("_R")


@app.callback()
def _global(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Settings come from QBD_SYNC_* variables and a .env file in the working directory."""
    _state["debug"] = debug


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"qbd-sync: error: {message}", err=True)
    return typer.Exit(code)


def guarded(func: Callable[..., _R]) -> Callable[..., _R]:
    """Turn our errors into one line and an exit code; show tracebacks only with --debug."""

    def wrapper(*args: Any, **kwargs: Any) -> _R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except QbdSyncError as exc:
            if _state["debug"]:
                traceback.print_exc()
            raise _fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - last line of defence for the CLI
            if _state["debug"]:
                traceback.print_exc()
            detail = str(exc).splitlines()[0] if str(exc) else ""
            hint = "" if _state["debug"] else " (run with --debug for the traceback)"
            raise _fail(f"{type(exc).__name__}: {detail}{hint}", 1) from None

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    wrapper.__wrapped__ = func  # type: ignore[attr-defined]
    return wrapper


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Write ``KEY=value`` lines to ``path`` atomically (temp file + rename)."""
    path = path.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{key}={value}\n" for key, value in values.items())
    os.replace(tmp, path)


def wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM arrives."""
    stop = threading.Event()

    def handler(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop.wait(0.5):
        pass


@app.command()
@guarded
def dev(
    env_file: Annotated[
        Path | None,
        typer.Option("--env-file", help="Also write the connection settings to this file."),
    ] = None,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions per topic.")] = 12,
    http_port: Annotated[int, typer.Option(help="HTTP port of the processor.")] = 8080,
) -> None:
    """Run the embedded stack (broker, PostgreSQL, simulator) until SIGINT/SIGTERM.

    Example: qbd-sync dev --env-file .env.dev
    """
    from processors.devstack import DevStack

    with DevStack(partitions=partitions, http_port=http_port, seed_demo=True) as stack:
        values = stack.connection_settings()
        for key, value in values.items():
            typer.echo(f"{key}={value}")
        sys.stdout.flush()
        if env_file is not None:
            write_env_file(env_file, values)
        wait_for_stop_signal()


@app.command()
@guarded
def demo() -> None:
    """Start the embedded stack, feed a demo stream through it, print what happened."""
    from processors.demo import run_demo

    run_demo()


@app.command()
@guarded
def migrate(
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL DSN (QBD_SYNC_DATABASE_URL).")
    ] = None,
) -> None:
    """Apply database migrations (idempotent, safe to run from two processes at once)."""
    from processors.config import load_settings
    from processors.devstack import run_coroutine
    from processors.migrate import apply_migrations

    settings = load_settings(".env", database_url=database_url)
    settings.require("database_url", command="migrate")
    applied = run_coroutine(apply_migrations(settings.secret("database_url")))
    if applied:
        for migration in applied:
            typer.echo(f"applied {migration.version:04d}_{migration.name}")
    else:
        typer.echo("database schema is up to date")


@app.command()
@guarded
def simulator(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    auto_connect: Annotated[
        bool, typer.Option("--auto-connect", help="New end-users start online.")
    ] = False,
    seed_demo: Annotated[
        bool, typer.Option("--seed-demo", help="Seed a demo company file.")
    ] = False,
) -> None:
    """Run the Conductor simulator alone (base URL http://HOST:PORT/v1)."""
    from qbdsim import serve

    serve(host=host, port=port, auto_connect=auto_connect, seed_demo=seed_demo)


def _not_yet(name: str) -> None:
    raise QbdSyncError(f"`qbd-sync {name}` is not yet available in this version")


@app.command()
@guarded
def run(
    kafka_bootstrap_servers: Annotated[
        str | None, typer.Option(help="Kafka bootstrap servers (QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL DSN (QBD_SYNC_DATABASE_URL).")
    ] = None,
    conductor_base_url: Annotated[
        str | None, typer.Option(help="Conductor API base URL (QBD_SYNC_CONDUCTOR_BASE_URL).")
    ] = None,
    group_id: Annotated[str | None, typer.Option(help="Consumer group.")] = None,
    input_topics: Annotated[str | None, typer.Option(help="Comma-separated input topics.")] = None,
    max_in_flight: Annotated[int | None, typer.Option(help="Events held at once.")] = None,
    max_concurrent_companies: Annotated[
        int | None, typer.Option(help="Companies called concurrently.")
    ] = None,
    http_port: Annotated[int | None, typer.Option(help="Health/metrics/webhook port.")] = None,
    catchup_interval: Annotated[
        str | None, typer.Option(help="First catch-up delay for parked companies, e.g. 15m.")
    ] = None,
    log_level: Annotated[str | None, typer.Option(help="debug, info, warning or error.")] = None,
) -> None:
    """Run the processor until SIGTERM (graceful shutdown).

    Example: QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS=kafka:9092 QBD_SYNC_DATABASE_URL=postgresql://...
    CONDUCTOR_SECRET_KEY=sk_live_... qbd-sync run
    """
    import asyncio

    from processors.config import load_settings
    from processors.logs import configure_logging

    settings = load_settings(
        ".env",
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        database_url=database_url,
        conductor_base_url=conductor_base_url,
        group_id=group_id,
        input_topics=input_topics,
        max_in_flight=max_in_flight,
        max_concurrent_companies=max_concurrent_companies,
        http_port=http_port,
        catchup_interval=catchup_interval,
        log_level=log_level,
    )
    settings.require(
        "kafka_bootstrap_servers", "database_url", "conductor_secret_key", command="run"
    )
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_serve(settings))


async def _serve(settings: Any) -> None:
    import asyncio

    from processors.service import Service

    service = Service(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.stop)
    try:
        await service.start()
    except BaseException:
        await service.close()
        raise
    await service.run()


@app.command()
@guarded
def replay(
    company: Annotated[str | None, typer.Option(help="Replay this company only.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every parked company.")] = False,
) -> None:
    """Health-check and replay parked work now."""
    _not_yet("replay")


@dlq_app.command("list")
@guarded
def dlq_list(
    company: Annotated[str | None, typer.Option(help="Only this company.")] = None,
) -> None:
    """List parked events."""
    _not_yet("dlq list")


@dlq_app.command("show")
@guarded
def dlq_show(event_id: str) -> None:
    """Show one parked event with its headers."""
    _not_yet("dlq show")


@companies_app.command("list")
@guarded
def companies_list() -> None:
    """List companies and their connection state."""
    _not_yet("companies list")


@companies_app.command("connect")
@guarded
def companies_connect(
    company_id: str,
    name: Annotated[str, typer.Option(help="Company name shown in the setup flow.")],
    email: Annotated[str, typer.Option(help="Email of the person who sets up QuickBooks.")],
) -> None:
    """Create the company's Conductor end-user and print a setup link."""
    _not_yet("companies connect")


@mappings_app.command("import")
@guarded
def mappings_import(file: Path) -> None:
    """Import mappings from a CSV (company_id,object_type,app_id,qbd_id)."""
    _not_yet("mappings import")


@mappings_app.command("export")
@guarded
def mappings_export() -> None:
    """Export mappings as CSV to stdout."""
    _not_yet("mappings export")


@schemas_app.command("export")
@guarded
def schemas_export(directory: Path) -> None:
    """Write JSON Schema of every event and the AsyncAPI document to DIRECTORY."""
    _not_yet("schemas export")


def main() -> None:
    """Console-script entry point."""
    app()
