"""`qbd-sync schemas export DIR`: writes every event's JSON Schema and the AsyncAPI document."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from processors.cli import app
from schemas import EventType, OutboundType

runner = CliRunner()


def test_export_writes_a_schema_per_event_and_asyncapi(tmp_path: Path) -> None:
    """Every inbound and outbound event type gets a schema file, plus asyncapi.json."""
    target = tmp_path / "schemas"

    result = runner.invoke(app, ["schemas", "export", str(target)])

    assert result.exit_code == 0, result.output
    names = {path.name for path in target.iterdir()}
    expected = {f"{kind}.schema.json" for kind in [*EventType, *OutboundType]}
    assert expected | {"asyncapi.json"} == names
    assert json.loads((target / "asyncapi.json").read_text())["asyncapi"].startswith("3.")
    assert len(result.output.splitlines()) == len(names)


def test_export_json_output_lists_the_written_paths(tmp_path: Path) -> None:
    """`--output json` prints one JSON array of the written paths, for scripts."""
    result = runner.invoke(app, ["schemas", "export", str(tmp_path), "--output", "json"])

    assert result.exit_code == 0, result.output
    paths = json.loads(result.output)
    assert all(Path(path).is_file() for path in paths)
    assert str(tmp_path / "asyncapi.json") in paths


def test_export_into_a_file_is_a_one_line_usage_error(tmp_path: Path) -> None:
    """A DIR that is an existing file exits 2 with one line saying so."""
    existing = tmp_path / "taken.txt"
    existing.write_text("x")

    result = runner.invoke(app, ["schemas", "export", str(existing)])

    assert result.exit_code == 2
    assert "is not a directory" in result.output
    assert "Traceback" not in result.output


def test_help_shows_an_example() -> None:
    """`schemas export --help` shows a worked example."""
    result = runner.invoke(app, ["schemas", "export", "--help"])

    assert result.exit_code == 0
    assert "Example: qbd-sync schemas export docs/schemas" in result.output
