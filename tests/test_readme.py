"""The README's two commands are the ones CI runs and the project supports."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [b.strip() for b in blocks[:2]]


def test_readme_opens_with_install_run_and_test_commands() -> None:
    run, test = readme_commands()
    assert "pip install ." in run and run.endswith("lanban")
    assert "pytest" in test and ".[test]" in test
    assert "python -m tools.check &&" in test, "static checks run before the tests"
    assert run.startswith("python3.12 -m venv") and test.startswith("python3.12 -m venv")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, test = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    last = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last.strip() == test


def test_python_version_file_pins_312_for_ci() -> None:
    assert (ROOT / ".python-version").read_text().strip() == "3.12"
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["requires-python"] == ">=3.12"


def test_layer_rule() -> None:
    """model/ imports neither sync/ nor desktop/; sync/ imports no Qt and no desktop/."""
    forbidden = {
        "model": re.compile(
            r"^\s*(from|import)\s+((lanban\.)?(sync|desktop)|PySide6|qasync)\b", re.M
        ),
        "sync": re.compile(r"^\s*(from|import)\s+((lanban\.)?desktop|PySide6|qasync)\b", re.M),
    }
    for folder, pattern in forbidden.items():
        for path in (ROOT / folder).rglob("*.py"):
            assert not pattern.search(path.read_text(encoding="utf-8")), path


def test_shipped_code_uses_the_lanban_namespace() -> None:
    """Only ``lanban.*`` imports: a bare ``import model`` works from a checkout but not
    once installed, where nothing but ``lanban`` sits at the top level."""
    bare = re.compile(r"^\s*(from|import)\s+(model|sync|desktop|resources)\b", re.M)
    for folder in ("lanban", "model", "sync", "desktop", "resources", "tests", "packaging"):
        for path in (ROOT / folder).rglob("*.py"):
            if "node_modules" not in path.parts:
                assert not bare.search(path.read_text(encoding="utf-8")), path
