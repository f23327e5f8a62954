"""CLI failures are one actionable line with the right exit code; --debug adds the traceback."""

from __future__ import annotations

import subprocess
import sys


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "processors", *args],
        capture_output=True,
        text=True,
        env=env or {"PATH": ""},
        check=False,
    )


def test_unknown_command_is_a_usage_error() -> None:
    """An unknown subcommand exits 2 with one line, not a usage box."""
    result = _run("frobnicate")

    assert result.returncode == 2
    assert result.stderr.strip() == "qbd-sync: error: No such command 'frobnicate'. (see --help)"


def test_bad_flag_value_is_one_line_naming_the_flag() -> None:
    """A malformed flag value exits 2 with one line that names the flag."""
    result = _run("run", "--max-in-flight", "lots")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "--max-in-flight" in result.stderr


def test_missing_setting_is_one_line_and_exit_2() -> None:
    """`migrate` without a database URL names the variable on one line."""
    result = _run("migrate")

    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "QBD_SYNC_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_line_and_exit_1() -> None:
    """A database that does not answer is a runtime error (exit 1), not a traceback."""
    result = _run("migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none")

    assert result.returncode == 1
    assert "PostgreSQL does not answer" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_flag_shows_the_traceback() -> None:
    """--debug prints the traceback as well as the one-line error."""
    result = _run("--debug", "migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none")

    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_module_and_console_script_are_the_same_program() -> None:
    """`python -m processors --help` lists the contract's commands."""
    result = _run("--help")

    for command in ("run", "dev", "demo", "migrate", "replay", "dlq", "companies", "simulator"):
        assert command in result.stdout
