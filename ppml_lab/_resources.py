"""Files shipped inside the package: style sheet, example experiments (later icons, scenarios).

They live in ``ppml_lab/resources/`` and are found through :mod:`importlib.resources`, so the
same calls work in a source checkout, an editable install and an installed wheel. Qt-free.

Examples
--------
>>> read_text("style", "ppml_lab.qss")          # doctest: +SKIP
>>> with resource_path("experiments", "adult_dp.toml") as path:  # doctest: +SKIP
...     load_experiment(path)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

#: The folder inside the ``ppml_lab`` package that holds every resource.
RESOURCE_DIR = "resources"
#: Where the application style sheet lives, relative to :data:`RESOURCE_DIR`.
STYLE_SHEET = ("style", "ppml_lab.qss")
#: The folder of the example experiment files, relative to :data:`RESOURCE_DIR`.
EXPERIMENTS_DIR = "experiments"


def resource(*parts: str) -> Traversable:
    """The resource at ``resources/<parts...>`` (it may not exist: check ``is_file()``).

    Parameters
    ----------
    *parts : str
        Path components below ``ppml_lab/resources``, e.g. ``("style", "ppml_lab.qss")``.
    """
    node = files("ppml_lab").joinpath(RESOURCE_DIR)
    for part in parts:
        node = node.joinpath(part)
    return node


@contextmanager
def resource_path(*parts: str) -> Iterator[Path]:
    """A real file-system path to the resource ``resources/<parts...>`` for as long as the block runs.

    In a normal install this is the file in the package itself; were the package imported from
    a zip file, it is a temporary copy (so paths relative to it lead nowhere).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    """
    node = resource(*parts)
    if not node.is_file():
        raise FileNotFoundError(f"no resource {'/'.join((RESOURCE_DIR, *parts))} in ppml_lab")
    with as_file(node) as path:
        yield Path(path)


def read_text(*parts: str, encoding: str = "utf-8") -> str:
    """The text of the resource ``resources/<parts...>``.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    """
    node = resource(*parts)
    if not node.is_file():
        raise FileNotFoundError(f"no resource {'/'.join((RESOURCE_DIR, *parts))} in ppml_lab")
    return node.read_text(encoding=encoding)


def style_sheet() -> str:
    """The application style sheet (Qt style-sheet text).

    Raises
    ------
    FileNotFoundError
        If the package was installed without its resources.
    """
    return read_text(*STYLE_SHEET)


def example_experiments() -> list[Traversable]:
    """The shipped example experiment files (``*.toml``), sorted by name.

    Open one with ``as_file`` (or :func:`resource_path`) to pass it to ``load_experiment``.
    """
    folder = resource(EXPERIMENTS_DIR)
    if not folder.is_dir():
        return []
    return sorted(
        (node for node in folder.iterdir() if node.is_file() and node.name.endswith(".toml")),
        key=lambda node: node.name,
    )
