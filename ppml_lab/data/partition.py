"""Split the training rows between simulated federated clients.

Four ways to split, as in the federated-learning literature (Hsu et al. 2019 for Dirichlet label
skew; Li et al. 2022, "Federated Learning on Non-IID Data Silos", for quantity skew):

``iid``
    Rows shuffled and dealt out in near-equal shares: the easy, unrealistic case.
``dirichlet``
    Label skew. For every class, the share of its rows each client gets is drawn from a
    symmetric Dirichlet(alpha) distribution: alpha = 0.1 gives each client mostly one or two
    classes, alpha = 100 an almost even split.
``quantity``
    Size skew. Client sizes follow a power law (Pareto weights with shape ``power``; a smaller
    ``power`` gives a heavier tail: a few huge clients and many small ones). Every client gets at
    least one row; labels are IID inside each client.
``column``
    One client per distinct value of a column (for example one hospital per site). The number of
    clients is the number of distinct values; the ``clients`` argument is ignored.

A client that ends up with no rows (possible with a very small Dirichlet alpha) is kept as an
empty index array and listed in :meth:`Partition.summary`, never silently dropped: the user asked
for that many clients and should see that some of them have nothing to train on.

The split only depends on the labels and the generator passed in, so the same seed gives the
same split. Errors are :class:`ValueError` with a message that says what to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ppml_lab.lazy import LazyModule

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")

METHODS: tuple[str, ...] = ("iid", "dirichlet", "quantity", "column")
"""The split methods :func:`partition` accepts."""

MAX_CLIENTS = 1000
"""The largest number of clients the lab simulates (one process, one model copy per client)."""

ALPHA_RANGE: tuple[float, float] = (0.01, 100.0)
"""Allowed Dirichlet alpha, inclusive. Below 0.01 numpy's sampler degenerates to one-hot draws."""

POWER_RANGE: tuple[float, float] = (0.1, 10.0)
"""Allowed Pareto shape for the quantity split, inclusive."""

MISSING_VALUE_LABEL = "(missing)"
"""Client label used by the column split for rows whose column value is missing."""


@dataclass(frozen=True, eq=False)
class Partition:
    """Which training rows each client holds.

    Parameters
    ----------
    client_indices
        One array of row indices (into the training arrays) per client, each sorted; the arrays
        are disjoint and together cover every training row. A client with no rows has an empty
        array.
    method
        The split method that produced it (one of :data:`METHODS`).
    labels
        A display name per client: ``"client 1"``, ... or, for the column split, the column
        value. Empty means the default names.
    """

    client_indices: tuple[np.ndarray, ...]
    method: str
    labels: tuple[str, ...] = ()

    @property
    def n_clients(self) -> int:
        """Number of clients, empty ones included."""
        return len(self.client_indices)

    @property
    def sizes(self) -> list[int]:
        """Rows per client, as plain ints."""
        return [int(idx.size) for idx in self.client_indices]

    @property
    def empty_clients(self) -> list[int]:
        """0-based indices of clients that hold no rows."""
        return [k for k, idx in enumerate(self.client_indices) if idx.size == 0]

    def client_label(self, k: int) -> str:
        """Display name of client ``k`` (0-based)."""
        return self.labels[k] if self.labels else f"client {k + 1}"

    def summary(self, y: np.ndarray, class_names: list[str] | tuple[str, ...]) -> dict[str, Any]:
        """Plain-Python description of the split, for the GUI, the report and JSON files.

        Parameters
        ----------
        y
            The training labels the partition was made from: integer class codes
            ``0 .. len(class_names) - 1`` (other labels are counted by their sorted distinct
            values).
        class_names
            Display names of the classes, in code order.

        Returns
        -------
        dict
            Only ``str``, ``int``, ``list`` and ``dict`` values (JSON-serialisable)::

                {
                  "method": "dirichlet",
                  "n_clients": 10, "n_rows": 1234,
                  "class_names": ["<=50K", ">50K"],
                  "clients": [{"index": 0, "label": "client 1", "rows": 120,
                               "class_counts": [100, 20]}, ...],
                  "rows_per_client": [120, ...],
                  "class_counts": [[100, 20], ...],
                  "empty_clients": [4, 7],          # 1-based, as numbered in the chart
                  "empty_client_indices": [3, 6],   # 0-based, for code
                }
        """
        codes, names = _class_codes(np.asarray(y), class_names)
        n_classes = len(names)
        clients: list[dict[str, Any]] = []
        for k, idx in enumerate(self.client_indices):
            counts = (
                np.bincount(codes[idx], minlength=n_classes)
                if idx.size
                else np.zeros(n_classes, int)
            )
            clients.append(
                {
                    "index": k,
                    "label": self.client_label(k),
                    "rows": int(idx.size),
                    "class_counts": [int(c) for c in counts],
                }
            )
        empty = self.empty_clients
        return {
            "method": self.method,
            "n_clients": self.n_clients,
            "n_rows": int(sum(c["rows"] for c in clients)),
            "class_names": names,
            "clients": clients,
            "rows_per_client": [c["rows"] for c in clients],
            "class_counts": [list(c["class_counts"]) for c in clients],
            "empty_clients": [k + 1 for k in empty],
            "empty_client_indices": list(empty),
        }


def partition(
    y: np.ndarray,
    *,
    clients: int,
    method: str = "iid",
    alpha: float = 0.5,
    power: float = 1.5,
    column_values: np.ndarray | None = None,
    rng: np.random.Generator,
) -> Partition:
    """Split the training rows between ``clients`` simulated clients.

    Parameters
    ----------
    y
        Training labels, one per row (any dtype; only compared for equality).
    clients
        Number of clients, 1 to :data:`MAX_CLIENTS` and at most the number of rows. Ignored by
        the ``column`` method, which makes one client per distinct column value.
    method
        ``"iid"``, ``"dirichlet"``, ``"quantity"`` or ``"column"`` (see the module docstring).
    alpha
        Dirichlet concentration for ``"dirichlet"``, in :data:`ALPHA_RANGE`; smaller is more
        skewed.
    power
        Pareto shape for ``"quantity"``, in :data:`POWER_RANGE`; smaller is more unequal.
    column_values
        For ``"column"``: one value per training row naming the client that holds it. Missing
        values (None/NaN) form their own client labelled :data:`MISSING_VALUE_LABEL`.
    rng
        The only source of randomness: the same seed gives the same split.

    Returns
    -------
    Partition
        Sorted, disjoint row indices per client covering all rows. Clients left without rows are
        kept (empty arrays) and reported by :meth:`Partition.summary`.

    Raises
    ------
    ValueError
        For a bad method, client count, alpha, power or column, with a message that says what to
        change.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"The labels must be one column of values (got an array of shape {y.shape})."
        )
    n = int(y.shape[0])
    if method not in METHODS:
        raise ValueError(
            f"Unknown data split method {method!r}. Choose one of: {', '.join(METHODS)}."
        )
    if n == 0:
        raise ValueError("The training split has no rows, so there is nothing to give to clients.")
    if method == "column":
        return _by_column(n, column_values)

    _check_clients(clients, n)
    if method == "iid":
        perm = rng.permutation(n)
        parts = np.array_split(perm, clients)
    elif method == "dirichlet":
        _check_range(
            "Dirichlet alpha",
            alpha,
            ALPHA_RANGE,
            "Small values such as 0.1 give each client mostly one class; large values "
            "such as 100 give an almost even split.",
        )
        parts = _dirichlet(y, clients, float(alpha), rng)
    else:  # quantity
        _check_range(
            "The quantity-skew power",
            power,
            POWER_RANGE,
            "Small values such as 0.5 give a few very large clients and many tiny ones; "
            "large values such as 5 give nearly equal sizes.",
        )
        parts = _quantity(n, clients, float(power), rng)
    return Partition(client_indices=tuple(_finish(p) for p in parts), method=method)


# ----------------------------------------------------------------------------------------------
# validation


def _check_clients(clients: int, n: int) -> None:
    if isinstance(clients, bool) or not isinstance(clients, (int, np.integer)):
        raise ValueError(f"The number of clients must be a whole number (got {clients!r}).")
    clients = int(clients)
    if clients < 1:
        raise ValueError(f"The number of clients must be at least 1 (you asked for {clients}).")
    if clients > MAX_CLIENTS:
        raise ValueError(
            f"You asked for {clients} clients; the lab simulates at most {MAX_CLIENTS}. "
            f"Use {MAX_CLIENTS} clients or fewer."
        )
    if clients > n:
        raise ValueError(
            f"You asked for {clients} clients but the training split has only {n} rows; "
            f"use at most {n} clients."
        )


def _check_range(what: str, value: float, bounds: tuple[float, float], hint: str) -> None:
    lo, hi = bounds
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{what} must be a number between {lo:g} and {hi:g} (got {value!r})."
        ) from None
    # ``not lo <= v <= hi`` is also true for NaN, which must be rejected too.
    if not lo <= v <= hi:
        raise ValueError(f"{what} must be between {lo:g} and {hi:g} (you gave {v:g}). {hint}")


# ----------------------------------------------------------------------------------------------
# methods


def _dirichlet(
    y: np.ndarray, clients: int, alpha: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """Label skew: each class's rows are cut in Dirichlet(alpha)-distributed shares."""
    per_client: list[list[np.ndarray]] = [[] for _ in range(clients)]
    # np.unique sorts, so the order classes are visited in (and therefore the rng stream) does
    # not depend on the order rows happen to be in.
    for cls in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == cls))
        shares = rng.dirichlet(np.full(clients, alpha))
        if not np.all(np.isfinite(shares)) or shares.sum() <= 0:
            # Very small alpha can underflow to an all-zero draw in older numpy versions; the
            # limit of Dirichlet(alpha -> 0) is "everything to one client", so do that.
            shares = np.zeros(clients)
            shares[rng.integers(clients)] = 1.0
        counts = _apportion(shares, rows.size)
        for k, chunk in enumerate(np.split(rows, np.cumsum(counts)[:-1])):
            per_client[k].append(chunk)
    return [np.concatenate(chunks) if chunks else np.empty(0, np.int64) for chunks in per_client]


def _quantity(n: int, clients: int, power: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Size skew: Pareto(power) weights, at least one row each, labels IID within a client."""
    # numpy's pareto is the Lomax form; +1 gives the classic Pareto with minimum 1.
    weights = rng.pareto(power, size=clients) + 1.0
    # One row each first (clients <= n was checked), the rest in proportion to the weights:
    # a client the user asked for should not vanish because of a small draw.
    sizes = 1 + _apportion(weights / weights.sum(), n - clients)
    perm = rng.permutation(n)
    return np.split(perm, np.cumsum(sizes)[:-1])


def _by_column(n: int, column_values: np.ndarray | None) -> Partition:
    if column_values is None:
        raise ValueError(
            "The 'column' split needs a column whose values say which client holds each row "
            "(for example a hospital or site column). Choose a client column, or use another "
            "split method."
        )
    values = np.asarray(column_values, dtype=object)
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(
            f"The client column has {values.shape[0] if values.ndim else 1} values but the training "
            f"split has {n} rows; give one value per training row."
        )
    # pandas' string dtype turns None/NaN into <NA> consistently for any input type, so mixed
    # columns (numbers and text) still get one client per distinct printed value.
    text = pd.Series(values, dtype=object).astype("string").fillna(MISSING_VALUE_LABEL)
    codes, uniques = pd.factorize(text, sort=True)
    n_clients = len(uniques)
    if n_clients > MAX_CLIENTS:
        raise ValueError(
            f"The client column has {n_clients} different values, and the column split makes one "
            f"client per value; the lab simulates at most {MAX_CLIENTS} clients. Choose a column "
            "with fewer values (such as a site or region), or use another split method."
        )
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=n_clients))[:-1]
    parts = np.split(order, bounds)
    return Partition(
        client_indices=tuple(_finish(p) for p in parts),
        method="column",
        labels=tuple(str(u) for u in uniques),
    )


# ----------------------------------------------------------------------------------------------
# helpers


def _apportion(shares: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing exactly to ``total``, proportional to ``shares`` (largest remainder).

    Rounding each share separately can lose or invent rows; the largest-remainder method keeps the
    sum exact and is deterministic given the shares.
    """
    shares = np.asarray(shares, dtype=float)
    exact = shares / shares.sum() * total
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        # Stable sort so ties go to the lower client index: reproducible across platforms.
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _finish(idx: np.ndarray) -> np.ndarray:
    """Sorted int64 copy, so indices read in row order and the dtype never depends on the path."""
    out = np.sort(np.asarray(idx, dtype=np.int64))
    out.flags.writeable = False  # the Partition is frozen; its arrays should be too
    return out


def _class_codes(
    y: np.ndarray, class_names: list[str] | tuple[str, ...]
) -> tuple[np.ndarray, list[str]]:
    """Integer codes and display names for the labels, however they are stored."""
    names = [str(c) for c in class_names]
    if y.size and np.issubdtype(y.dtype, np.integer) and y.min() >= 0:
        n_classes = max(len(names), int(y.max()) + 1)
        names += [f"class {c}" for c in range(len(names), n_classes)]
        return y.astype(np.int64), names
    uniques, codes = np.unique(y, return_inverse=True)
    if len(names) < len(uniques):
        names = [str(u) for u in uniques]
    return codes.astype(np.int64), names
