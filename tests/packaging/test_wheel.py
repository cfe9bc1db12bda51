"""The wheel and the sdist: built from a copy of the checkout, they carry every resource; the wheel
installs into a fresh virtual environment, and its ``ppml-lab`` works there, away from the checkout.

To stay fast (about 30 s) the fresh environment gets the wheel only (``--no-deps``) and reuses the
dependencies already installed for the tests, through a ``.pth`` line that appends the test
environment's site-packages to its path (it does not run that folder's ``.pth`` files, so the
checkout's editable install stays out). The build backend (setuptools) comes from the package
registry, or pip's cache. Deselect with ``-m "not packaging"``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "ppml_lab"
RESOURCES = PACKAGE / "resources"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def resource_files() -> list[str]:
    """Every resource file of the checkout, as ``ppml_lab/resources/...``."""
    return sorted(
        p.relative_to(REPO).as_posix()
        for p in RESOURCES.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def _run(command: list[str], *, timeout: float = 240, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                          **kwargs)


def _commands(help_text: str) -> set[str]:
    """The sub-commands in ``ppml-lab --help``'s usage line (``{run,datasets,...}``)."""
    found = re.search(r"\{([^}]*)\}", help_text)
    return set(found.group(1).split(",")) if found else set()


class Built:
    """What the module fixture made: the distributions and a fresh venv with the wheel in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.src = root / "src"
        self.dist = root / "dist"
        self.venv = root / "venv"
        self.work = root / "elsewhere"  # the commands run here: no checkout, no pyproject
        self.home = root / "home"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def wheel(self) -> Path:
        (wheel,) = self.dist.glob("ppml_lab-*.whl")
        return wheel

    @property
    def sdist(self) -> Path:
        (sdist,) = self.dist.glob("ppml_lab-*.tar.gz")
        return sdist

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items()
            if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP"}
        }
        env.update(
            PATH=f"{self.venv / 'bin'}{os.pathsep}{os.defpath}", HOME=str(self.home),
            QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(self.home / "data"),
            XDG_CONFIG_HOME=str(self.home / "config"),
        )
        return env

    def ppml_lab(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        return _run([str(self.venv / "bin" / "ppml-lab"), *args], timeout=timeout,
                    cwd=self.work, env=self.env())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    b = Built(tmp_path_factory.mktemp("packaging"))
    for folder in (b.src, b.dist, b.work, b.home):
        folder.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, b.src / name)
    shutil.copytree(PACKAGE, b.src / "ppml_lab",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    made = _run([sys.executable, "-m", "venv", "--without-pip", str(b.venv)])
    assert made.returncode == 0, made.stderr
    pip = [sys.executable, "-m", "pip", "--python", str(b.python), "--disable-pip-version-check"]
    requires = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))[
        "build-system"]["requires"]
    backend = _run([*pip, "install", "-q", *requires])
    if backend.returncode != 0 and (
        "No matching distribution" in backend.stderr or "Could not find a version" in backend.stderr
    ):
        pytest.skip(f"the build backend ({', '.join(requires)}) cannot be downloaded")
    assert backend.returncode == 0, backend.stderr
    build = _run(
        [str(b.python), "-c",
         # build_sdist rewrites sys.argv: read the folder first.
         "import sys, setuptools.build_meta as m; out = sys.argv[1]; "
         "print(m.build_sdist(out)); print(m.build_wheel(out))", str(b.dist)],
        cwd=b.src,
    )
    assert build.returncode == 0, build.stderr[-3000:]

    installed = _run([*pip, "install", "-q", "--no-deps", "--no-index", str(b.wheel)])
    assert installed.returncode == 0, installed.stderr
    site = Path(_run([str(b.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
                .stdout.strip())
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_ppml_lab_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    return b


def test_the_wheel_carries_every_resource(built: Built) -> None:
    names = set(zipfile.ZipFile(built.wheel).namelist())
    expected = resource_files()
    assert "ppml_lab/resources/style/ppml_lab.qss" in expected
    assert "ppml_lab/resources/icons/ppml-lab-256.png" in expected  # binary files too
    assert any(f.startswith("ppml_lab/resources/scenarios/") for f in expected)
    assert [f for f in expected if f not in names] == []
    assert f"ppml_lab-{VERSION}.dist-info/entry_points.txt" in names
    entry_points = zipfile.ZipFile(built.wheel).read(
        f"ppml_lab-{VERSION}.dist-info/entry_points.txt").decode()
    assert "ppml-lab = ppml_lab.cli:main" in entry_points
    assert not any(n.startswith(("tests/", "packaging/")) for n in names)


def test_the_sdist_carries_every_resource(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert "pyproject.toml" in names
    assert [f for f in resource_files() if f not in names] == []


def test_the_installed_package_is_the_wheel_not_the_checkout(built: Built) -> None:
    code = (
        "import ppml_lab, ppml_lab._resources as r; print(ppml_lab.__file__); "
        "print(len(r.example_experiments())); print(r.resource('icons', 'ppml-lab.svg').is_file())"
    )
    out = _run([str(built.python), "-c", code], cwd=built.work, env=built.env())
    assert out.returncode == 0, out.stderr
    location, examples, icon = out.stdout.split()
    assert Path(location).is_relative_to(built.venv)
    assert not Path(location).is_relative_to(REPO)
    assert int(examples) == len(list((RESOURCES / "experiments").glob("*.toml")))
    assert icon == "True"


def test_version_help_and_datasets_run_from_the_installed_wheel(built: Built) -> None:
    version = built.ppml_lab("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"ppml-lab {VERSION}"
    helped = built.ppml_lab("--help")
    assert helped.returncode == 0 and "usage: ppml-lab" in helped.stdout
    assert {"run", "datasets"} <= _commands(helped.stdout)
    datasets = built.ppml_lab("datasets")
    assert datasets.returncode == 0, datasets.stderr
    assert "builtin:breast_cancer" in datasets.stdout


def test_a_headless_report_or_run_from_the_installed_wheel(built: Built) -> None:
    """``ppml-lab demo --pdf`` when the command exists; until then a run of a shipped example."""
    if "demo" in _commands(built.ppml_lab("--help").stdout):
        out = built.ppml_lab("demo", "--pdf", "out.pdf")
        assert out.returncode == 0, out.stderr[-3000:]
        pdf = built.work / "out.pdf"
        assert pdf.read_bytes()[:4] == b"%PDF" and pdf.stat().st_size > 10_000
    else:
        example = "breast_cancer_baseline.toml"
        out = _run(
            [str(built.python), "-c",
             "import sys, shutil, ppml_lab._resources as r\n"
             "with r.resource_path('experiments', sys.argv[1]) as p: shutil.copy(p, sys.argv[1])",
             example],
            cwd=built.work, env=built.env(),
        )
        assert out.returncode == 0, out.stderr
        ran = built.ppml_lab("run", example, "--json", "out.json", "-q")
        assert ran.returncode == 0, ran.stderr[-3000:]
        assert '"status": "completed"' in (built.work / "out.json").read_text(encoding="utf-8")
