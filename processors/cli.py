"""The ``qbd-sync`` command line (CONTRACT.md section 7).

Every failure is one actionable line on stderr: exit 2 for usage and configuration errors,
1 for runtime ones. ``--debug`` shows the traceback as well.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from processors.backoff import set_testing_from_env
from processors.errors import QbdSyncError, UsageError
from processors.progress import progress

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
reference_app = typer.Typer(help="Reference data: QuickBooks lists pulled to qbd.reference.")
app.add_typer(dlq_app, name="dlq")
app.add_typer(companies_app, name="companies")
app.add_typer(mappings_app, name="mappings")
app.add_typer(schemas_app, name="schemas")
app.add_typer(reference_app, name="reference")

_state: dict[str, Any] = {"debug": False}
_R = TypeVar("_R")


@app.callback()
def _global(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Settings come from QBD_SYNC_* variables and a .env file in the working directory."""
    _state["debug"] = debug
    set_testing_from_env()


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
    """Run the embedded stack and the processor until SIGINT/SIGTERM.

    Starts a Tansu broker, PostgreSQL, the Conductor simulator (new companies start online,
    with a demo company file) and qbd-sync itself; once everything answers, prints the
    connection settings as KEY=value lines (and writes them to --env-file).

    Example: qbd-sync dev --env-file .env.dev --http-port 8080
    """
    import asyncio

    from processors.devstack import DevStack
    from processors.logs import configure_logging

    with DevStack(partitions=partitions, http_port=http_port, seed_demo=True) as stack:
        settings = stack.settings(http_port=http_port, http_host="127.0.0.1")
        configure_logging(settings.log_level, settings.log_format)

        def ready(port: int) -> None:
            values = stack.connection_settings()
            values["QBD_SYNC_HTTP_PORT"] = str(port)
            for key, value in values.items():
                typer.echo(f"{key}={value}")
            sys.stdout.flush()
            if env_file is not None:
                write_env_file(env_file, values)

        asyncio.run(_serve(settings, on_ready=ready))


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


def _settings() -> Any:
    """Settings for an operator command; its logs go to stderr, warnings only."""
    from processors.config import load_settings
    from processors.logs import configure_logging

    settings = load_settings(".env")
    configure_logging("warning", settings.log_format)
    return settings


def _run(coro: Any) -> Any:
    from processors.devstack import run_coroutine

    return run_coroutine(coro)


def _check_output(output: str) -> None:
    if output not in ("table", "json"):
        raise UsageError(f"--output must be table or json, not {output!r}")


def _not_yet(name: str) -> None:
    raise QbdSyncError(f"`qbd-sync {name}` is not yet available in this version")


def _flag(env: str, text: str) -> Any:
    """A `run` option documented with the environment variable it overrides."""
    return typer.Option(help=f"{text} ({env}).")


@app.command()
@guarded
def run(
    kafka_bootstrap_servers: Annotated[
        str | None, _flag("QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS", "Kafka bootstrap servers")
    ] = None,
    kafka_security_protocol: Annotated[
        str | None, _flag("QBD_SYNC_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT, SSL, SASL_*")
    ] = None,
    kafka_sasl_mechanism: Annotated[
        str | None, _flag("QBD_SYNC_KAFKA_SASL_MECHANISM", "PLAIN or SCRAM-SHA-256/512")
    ] = None,
    kafka_sasl_username: Annotated[
        str | None, _flag("QBD_SYNC_KAFKA_SASL_USERNAME", "SASL user")
    ] = None,
    kafka_sasl_password: Annotated[
        str | None, _flag("QBD_SYNC_KAFKA_SASL_PASSWORD", "SASL password; prefer the env var")
    ] = None,
    kafka_ssl_cafile: Annotated[
        Path | None, _flag("QBD_SYNC_KAFKA_SSL_CAFILE", "CA bundle for the broker")
    ] = None,
    database_url: Annotated[str | None, _flag("QBD_SYNC_DATABASE_URL", "PostgreSQL DSN")] = None,
    conductor_secret_key: Annotated[
        str | None, _flag("CONDUCTOR_SECRET_KEY", "Conductor secret key; prefer the env var")
    ] = None,
    conductor_publishable_key: Annotated[
        str | None, _flag("CONDUCTOR_PUBLISHABLE_KEY", "Conductor publishable key")
    ] = None,
    conductor_base_url: Annotated[
        str | None, _flag("QBD_SYNC_CONDUCTOR_BASE_URL", "Conductor API base URL")
    ] = None,
    auth_link_expiry_mins: Annotated[
        int | None, _flag("QBD_SYNC_AUTH_LINK_EXPIRY_MINS", "Setup link lifetime")
    ] = None,
    webhook_secret: Annotated[
        str | None, _flag("QBD_SYNC_WEBHOOK_SECRET", "Webhook HMAC secret")
    ] = None,
    catchup_interval: Annotated[
        str | None,
        _flag("QBD_SYNC_CATCHUP_INTERVAL", "First probe of a parked company, and every, e.g. 1m"),
    ] = None,
    probe_backoff_after: Annotated[
        str | None, _flag("QBD_SYNC_PROBE_BACKOFF_AFTER", "Outage age when probes back off")
    ] = None,
    probe_max_interval: Annotated[
        str | None, _flag("QBD_SYNC_PROBE_MAX_INTERVAL", "Longest wait between probes")
    ] = None,
    setup_probe_interval: Annotated[
        str | None, _flag("QBD_SYNC_SETUP_PROBE_INTERVAL", "Probe interval for setup problems")
    ] = None,
    parked_recheck_interval: Annotated[
        str | None,
        _flag("QBD_SYNC_PARKED_RECHECK_INTERVAL", "A new event checks a parked company after"),
    ] = None,
    max_probes_per_second: Annotated[
        float | None, _flag("QBD_SYNC_MAX_PROBES_PER_SECOND", "Probes per second, all companies")
    ] = None,
    status_poll_interval: Annotated[
        str | None,
        _flag("QBD_SYNC_STATUS_POLL_INTERVAL", "Invoice status read-back interval; 0 turns it off"),
    ] = None,
    group_id: Annotated[str | None, _flag("QBD_SYNC_GROUP_ID", "Consumer group")] = None,
    input_topics: Annotated[
        str | None, _flag("QBD_SYNC_INPUT_TOPICS", "Comma-separated input topics")
    ] = None,
    sync_results_topic: Annotated[
        str | None, _flag("QBD_SYNC_SYNC_RESULTS_TOPIC", "Sync results topic")
    ] = None,
    needs_attention_topic: Annotated[
        str | None, _flag("QBD_SYNC_NEEDS_ATTENTION_TOPIC", "Needs-attention topic")
    ] = None,
    dlq_topic: Annotated[str | None, _flag("QBD_SYNC_DLQ_TOPIC", "Dead-letter topic")] = None,
    rejected_topic: Annotated[
        str | None, _flag("QBD_SYNC_REJECTED_TOPIC", "Rejected-input topic")
    ] = None,
    reference_topic: Annotated[
        str | None, _flag("QBD_SYNC_REFERENCE_TOPIC", "Reference-data topic")
    ] = None,
    max_in_flight: Annotated[
        int | None, _flag("QBD_SYNC_MAX_IN_FLIGHT", "Events held at once")
    ] = None,
    max_concurrent_companies: Annotated[
        int | None, _flag("QBD_SYNC_MAX_CONCURRENT_COMPANIES", "Companies called at once")
    ] = None,
    http_port: Annotated[int | None, _flag("QBD_SYNC_HTTP_PORT", "HTTP port")] = None,
    http_host: Annotated[str | None, _flag("QBD_SYNC_HTTP_HOST", "HTTP address")] = None,
    admin_token: Annotated[
        str | None, _flag("QBD_SYNC_ADMIN_TOKEN", "Dashboard action token")
    ] = None,
    auto_map: Annotated[str | None, _flag("QBD_SYNC_AUTO_MAP", "off or exact")] = None,
    tracing: Annotated[
        bool | None, _flag("QBD_SYNC_TRACING", "OpenTelemetry span per event")
    ] = None,
    log_level: Annotated[str | None, _flag("QBD_SYNC_LOG_LEVEL", "debug ... error")] = None,
    log_format: Annotated[str | None, _flag("QBD_SYNC_LOG_FORMAT", "auto, json or console")] = None,
) -> None:
    """Run the processor until SIGTERM (graceful shutdown).

    Every flag overrides its environment variable (and the .env file).

    Example: QBD_SYNC_KAFKA_BOOTSTRAP_SERVERS=kafka:9092 QBD_SYNC_DATABASE_URL=postgresql://...
    CONDUCTOR_SECRET_KEY=sk_live_... qbd-sync run --max-concurrent-companies 128
    """
    import asyncio

    from processors.config import load_settings
    from processors.logs import configure_logging

    flags = dict(locals())
    settings = load_settings(".env", **flags)
    settings.require(
        "kafka_bootstrap_servers", "database_url", "conductor_secret_key", command="run"
    )
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_serve(settings))


async def _serve(settings: Any, on_ready: Callable[[int], None] | None = None) -> None:
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
    if on_ready is not None and service.http is not None:
        on_ready(service.http.port)
    await service.run()


@app.command()
@guarded
def replay(
    company: Annotated[str | None, typer.Option(help="Replay this company only.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every parked company.")] = False,
) -> None:
    """Health-check and replay parked work now.

    Publishes a sync.requested event per company, so the processor that owns the company
    replays it in its lane, in order. Example: qbd-sync replay --company acct_48291
    """
    from processors.operator import request_replays

    with progress("replay requests") as tracker:
        requested = _run(request_replays(_settings(), company, all_, tracker=tracker))
    if not requested:
        typer.echo("no parked companies: nothing to replay")
    for name, parked in requested:
        typer.echo(
            f"replay requested for {name} ({parked} parked event(s)); the processor that "
            "owns it health-checks it and replays in order"
        )


@dlq_app.command("list")
@guarded
def dlq_list(
    company: Annotated[str | None, typer.Option(help="Only this company.")] = None,
    output: Annotated[str, typer.Option(help="table or json.")] = "table",
) -> None:
    """List parked events, in parking order."""
    from processors.operator import dlq_entries, render_table

    _check_output(output)
    rows = [entry.as_dict() for entry in _run(dlq_entries(_settings(), company))]
    if output == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        row["at"] = f"{row['dlq']['partition']}@{row['dlq']['offset']}"
    typer.echo(
        render_table(
            rows,
            [
                ("EVENT_ID", "event_id"),
                ("COMPANY", "company_id"),
                ("PARKED_AT", "parked_at"),
                ("CODE", "error_code"),
                ("DLQ", "at"),
                ("REASON", "reason"),
            ],
        )
    )


@dlq_app.command("show")
@guarded
def dlq_show(event_id: str) -> None:
    """Show one parked event as JSON: index row, key, headers and the original event."""
    from processors.operator import dlq_record

    typer.echo(json.dumps(_run(dlq_record(_settings(), event_id)), indent=2))


@companies_app.command("list")
@guarded
def companies_list(
    output: Annotated[str, typer.Option(help="table or json.")] = "table",
) -> None:
    """List companies and their connection state."""
    from processors.companies import describe
    from processors.operator import list_companies, render_table

    _check_output(output)
    rows = [describe(view) for view in _run(list_companies(_settings()))]
    if output == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    columns = [
        ("COMPANY", "company_id"),
        ("STATE", "state"),
        ("PARKED", "parked"),
        ("ATTENTION", "open_attention"),
        ("LAST_HEALTH_CHECK", "last_health_check"),
        ("NEXT_PROBE", "next_probe_at"),
        ("LAST_SYNC", "last_sync"),
        ("MESSAGE", "user_facing_message"),
    ]
    typer.echo(render_table(rows, columns))


@companies_app.command("connect")
@guarded
def companies_connect(
    company_id: str,
    name: Annotated[str, typer.Option(help="Company name shown in the setup flow.")],
    email: Annotated[str, typer.Option(help="Email of the person who sets up QuickBooks.")],
) -> None:
    """Create the company's Conductor end-user and print a setup link.

    Example: qbd-sync companies connect acct_48291 --name "Acme Plumbing" --email it@acme.test
    """
    from processors.operator import connect_company

    typer.echo(_run(connect_company(_settings(), company_id, name, email)))


@mappings_app.command("import")
@guarded
def mappings_import(
    file: Path,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report only; change nothing.")
    ] = False,
) -> None:
    """Import mappings from a CSV (company_id,object_type,app_id,qbd_id).

    Good rows are applied; rejected rows are listed with the reason, and the command then
    exits 1. Example: qbd-sync mappings import mappings.csv --dry-run
    """
    from processors.mapping_io import import_mappings

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {file}: {exc}") from exc
    with progress(f"checking {file.name}") as tracker:
        report = _with_pool(
            "mappings import",
            lambda pool: import_mappings(pool, text, dry_run=dry_run, tracker=tracker),
        )
    for line in report.lines():
        typer.echo(line)
    if report.rejected:
        verb = "would be applied" if dry_run else "were applied"
        raise _fail(
            f"{len(report.rejected)} of {report.rows} rows rejected (listed above); "
            f"the other {report.applied} {verb}",
            1,
        )


@mappings_app.command("export")
@guarded
def mappings_export(
    company: Annotated[str | None, typer.Option(help="Only this company.")] = None,
) -> None:
    """Export mappings as CSV (company_id,object_type,app_id,qbd_id) to stdout."""
    from processors.mapping_io import export_mappings

    _with_pool("mappings export", lambda pool: export_mappings(pool, sys.stdout, company))


def _with_pool(command: str, action: Callable[[Any], Any]) -> Any:
    """Run ``action(pool)`` against QBD_SYNC_DATABASE_URL."""
    from processors.config import load_settings
    from processors.db import connect_pool
    from processors.devstack import run_coroutine

    settings = load_settings(".env")
    settings.require("database_url", command=command)

    async def go() -> Any:
        pool = await connect_pool(settings.secret("database_url"), min_size=1)
        try:
            return await action(pool)
        finally:
            await pool.close()

    return run_coroutine(go())


@reference_app.command("pull")
@guarded
def reference_pull(
    company: Annotated[str, typer.Option(help="The company (companyid) to pull.")],
    types: Annotated[
        str | None,
        typer.Option(help="Comma-separated lists: customers,vendors,items,accounts,classes,terms."),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="List everything and report deletions.")
    ] = False,
) -> None:
    """Pull QuickBooks lists to the reference topic and the local copy, resuming a cut pull.

    Example: qbd-sync reference pull --company acct_48291 --types customers,items
    """
    from processors.config import load_settings
    from processors.devstack import run_coroutine
    from processors.reference import pull_company
    from schemas import DEFAULT_REFERENCE_LISTS, ReferenceList

    names = [part.strip() for part in (types or "").split(",") if part.strip()]
    unknown = [name for name in names if name not in set(ReferenceList)]
    if unknown:
        raise UsageError(
            f"unknown list(s) {', '.join(unknown)}; choose from {','.join(ReferenceList)}"
        )
    lists = [ReferenceList(name) for name in names] or list(DEFAULT_REFERENCE_LISTS)
    with progress(f"pulling {company}") as tracker:
        reports = run_coroutine(
            pull_company(load_settings(".env"), company, lists, full=full, tracker=tracker)
        )
    for report in reports:
        how = "skipped" if report.skipped else ("full" if report.full else "incremental")
        typer.echo(
            f"{report.list}: {how}{' (resumed)' if report.resumed else ''}, "
            f"listed {report.listed}, published {report.published}, "
            f"deleted {report.deleted}"
        )


@schemas_app.command("export")
@guarded
def schemas_export(
    directory: Annotated[
        Path, typer.Argument(help="Directory to write into (created if missing).")
    ],
    output: Annotated[
        str, typer.Option("--output", help="text (one path a line) or json (a list of paths).")
    ] = "text",
) -> None:
    """Write JSON Schema of every event and the AsyncAPI document to DIRECTORY.

    Writes <event type>.schema.json for every inbound and outbound event and asyncapi.json.

    Example: qbd-sync schemas export docs/schemas
    """
    import json

    from processors.errors import UsageError
    from schemas import export_schemas

    if output not in ("text", "json"):
        raise UsageError(f"--output must be text or json, not {output!r}")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a directory; pass a directory path")
    try:
        written = export_schemas(directory)
    except OSError as exc:
        raise QbdSyncError(f"cannot write schemas to {directory}: {exc.strerror or exc}") from exc
    if output == "json":
        typer.echo(json.dumps([str(path) for path in written]))
    else:
        for path in written:
            typer.echo(str(path))


def main() -> None:
    """Console-script entry point: usage errors too are one line (exit 2)."""
    # typer vendors click; its ClickException is the base of every usage error.
    click_error = typer.BadParameter.__mro__[2]
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:
        if not isinstance(exc, click_error):
            raise
        message = exc.format_message()  # type: ignore[attr-defined]
        if message:  # empty when the help was shown because no command was given
            typer.echo(f"qbd-sync: error: {message} (see --help)", err=True)
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    sys.exit(code if isinstance(code, int) else 0)
