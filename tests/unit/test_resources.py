"""Resources (style sheet, example experiments, ...) ship inside the package and are found
through importlib.resources, in a checkout, an editable install and a built wheel."""

from __future__ import annotations

import fnmatch
import glob
import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.resources import as_file
from pathlib import Path

import pytest

from ppml_lab import _resources
from ppml_lab.experiments.config import load_experiment

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "ppml_lab"
RESOURCES = PACKAGE / "resources"


def shipped_files() -> list[str]:
    """Every resource file in the checkout, relative to the package folder (``resources/...``)."""
    return sorted(
        p.relative_to(PACKAGE).as_posix()
        for p in RESOURCES.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def test_the_style_sheet_is_found():
    node = _resources.resource(*_resources.STYLE_SHEET)
    assert node.is_file()
    text = _resources.style_sheet()
    assert "QGroupBox" in text
    assert text == (RESOURCES / "style" / "ppml_lab.qss").read_text(encoding="utf-8")
    assert _resources.read_text("style", "ppml_lab.qss") == text


def test_the_app_loads_the_style_sheet_through_the_helper():
    from ppml_lab.ui.app import load_style_sheet

    assert load_style_sheet() == _resources.style_sheet()


def test_every_example_experiment_is_found_and_loads():
    found = _resources.example_experiments()
    assert [node.name for node in found] == sorted(
        p.name for p in (RESOURCES / "experiments").glob("*.toml")
    )
    assert len(found) >= 3
    for node in found:
        with as_file(node) as path:
            experiment = load_experiment(path)
        assert experiment.name


def test_resource_path_gives_a_real_file_and_missing_resources_raise():
    with _resources.resource_path(*_resources.STYLE_SHEET) as path:
        assert path.is_file() and path.name == "ppml_lab.qss"
    assert not _resources.resource("no", "such.file").is_file()
    with pytest.raises(FileNotFoundError, match="resources/no/such.file"):
        _resources.read_text("no", "such.file")
    with pytest.raises(FileNotFoundError):
        with _resources.resource_path("no", "such.file"):
            pass


def test_resources_live_inside_the_package():
    # A top-level resources/ folder would not be shipped in the wheel.
    assert not (REPO / "resources").exists()
    assert RESOURCES.is_dir() and not (RESOURCES / "__init__.py").exists()


def test_package_data_covers_every_resource():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    assert any(
        fnmatch.fnmatch("ppml_lab", pattern) for pattern in config["packages"]["find"]["include"]
    )
    patterns = config["package-data"]["ppml_lab"]
    covered = {
        Path(match).as_posix()
        for pattern in patterns
        for match in glob.glob(pattern, root_dir=PACKAGE, recursive=True)
    }
    files = shipped_files()
    assert files and "resources/style/ppml_lab.qss" in files
    assert [f for f in files if f not in covered] == []


def _build_requirements_installed(pyproject: dict) -> bool:
    from packaging.requirements import Requirement

    for spec in pyproject["build-system"]["requires"]:
        requirement = Requirement(spec)
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            return False
        if not requirement.specifier.contains(version, prereleases=True):
            return False
    return True


@pytest.mark.slow
def test_a_built_wheel_contains_every_resource(tmp_path):
    # Build from a copy so no build/ or egg-info lands in the checkout.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        PACKAGE, source / "ppml_lab", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        str(source),
        "--no-deps",
        "-q",
        "-w",
        str(tmp_path / "dist"),
    ]
    if _build_requirements_installed(pyproject):
        command.append("--no-build-isolation")  # fast: no download of the build backend
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if (
        result.returncode != 0
        and "--no-build-isolation" not in command
        and (
            "No matching distribution" in result.stderr
            or "Could not find a version" in result.stderr
        )
    ):
        pytest.skip("the build backend is not installed and cannot be downloaded")
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("ppml_lab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ppml_lab/_resources.py" in names
    assert [f for f in shipped_files() if f"ppml_lab/{f}" not in names] == []
