"""The architecture contracts: the project keeps them, and they really catch a violation."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def contract_count() -> int:
    return len(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"])


def test_the_project_keeps_its_import_contracts():
    if not LINT_IMPORTS.exists():
        pytest.fail(f"lint-imports not installed next to {sys.executable}: run `uv sync`")
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {contract_count()} kept, 0 broken." in done.stdout


def importlinter_config_for(package: str) -> str:
    """The project's own [tool.importlinter] sections, word for word, aimed at another package."""
    lines, keep = [], False
    for line in (ROOT / "pyproject.toml").read_text().splitlines():
        if line.startswith("["):
            keep = line.strip("[]").startswith("tool.importlinter")
        if keep:
            lines.append(line)
    text = "\n".join(lines) + "\n"
    assert 'root_package = "openrtcc"' in text and "sqlalchemy" in text
    return re.sub(r"\bopenrtcc\b", package, text)


@pytest.fixture
def throwaway(tmp_path) -> Path:
    """A package shaped like ours (domain, services, adapters, web, cli, config) with the same contracts."""
    pkg = tmp_path / "fakepkg"
    for sub in ("", "domain", "services", "adapters", "web", "edge"):
        (pkg / sub).mkdir(parents=True, exist_ok=True)
        (pkg / sub / "__init__.py").write_text('"""Part of a throwaway package."""\n')
    (pkg / "cli.py").write_text("from fakepkg import web\n")
    (pkg / "config.py").write_text("")
    (pkg / "web" / "app.py").write_text("from fakepkg.services import rules\n")
    (pkg / "services" / "rules.py").write_text("from fakepkg.domain import model\nimport sqlalchemy\n")
    (pkg / "domain" / "model.py").write_text("import math\nimport dataclasses\n")
    (tmp_path / "pyproject.toml").write_text(importlinter_config_for("fakepkg"))
    return tmp_path


def test_the_throwaway_package_keeps_the_contracts_when_clean(throwaway):
    """The control: the copied configuration is valid and a clean package passes it."""
    done = lint_imports(throwaway, pythonpath=throwaway)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {contract_count()} kept, 0 broken." in done.stdout


@pytest.mark.parametrize("source, broken", [
    ("import sqlalchemy\n", ["fakepkg.domain.bad -> sqlalchemy"]),
    ("from sqlalchemy import select\n", ["fakepkg.domain.bad -> sqlalchemy"]),
    ("def f():\n    import fastapi\n    return fastapi\n", ["fakepkg.domain.bad -> fastapi"]),
    ("from fakepkg.adapters import db\n", ["fakepkg.domain.bad -> fakepkg.adapters"]),
])
def test_a_domain_module_importing_a_forbidden_module_breaks_the_contract(throwaway, source, broken):
    (throwaway / "fakepkg" / "domain" / "bad.py").write_text(source)
    (throwaway / "fakepkg" / "adapters" / "db.py").write_text("")
    done = lint_imports(throwaway, pythonpath=throwaway)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "The domain is pure" in out and "BROKEN" in out
    assert "include_external_packages" not in out  # broken by the import, not by the configuration
    for chain in broken:
        assert chain in out
