"""The wheel installs one import root, ``ledger``, with the CLI and schemas inside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_has_only_the_ledger_top_level_package(tmp_path):
    src = tmp_path / "src"  # build from a copy: the build leaves build/ and egg-info behind
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", "*.egg-info", "build", "__pycache__", ".venv"))
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("claimledger-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"ledger"}
    assert "ledger/cli/main.py" in names
    assert "ledger/schemas/source.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "claimledger = ledger.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_schemas_load_as_package_data():
    from ledger.schema import KINDS, schema_document

    for kind in KINDS:
        doc = schema_document(kind)
        assert doc["$id"] == f"urn:claimledger:schemas:v1:{kind}"
