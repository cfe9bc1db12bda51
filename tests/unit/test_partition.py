"""Federated partitioners: coverage, reproducibility, skew and plain-language errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ppml_lab.data.partition import MAX_CLIENTS, METHODS, Partition, partition


def _labels(n: int = 600, k: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, k, size=n)


def _check_cover(part: Partition, n: int) -> None:
    for idx in part.client_indices:
        assert idx.dtype == np.int64
        assert np.all(np.diff(idx) > 0), "indices must be sorted and unique"
    joined = np.concatenate(part.client_indices)
    assert joined.size == n, "clients must not share rows"
    assert np.array_equal(np.sort(joined), np.arange(n)), "every row goes to exactly one client"


def _mean_entropy(part: Partition, y: np.ndarray) -> float:
    ent = []
    for idx in part.client_indices:
        if idx.size == 0:
            continue
        p = np.bincount(y[idx], minlength=y.max() + 1) / idx.size
        p = p[p > 0]
        ent.append(float(-(p * np.log(p)).sum()))
    return float(np.mean(ent))


@pytest.mark.parametrize("method", ["iid", "dirichlet", "quantity"])
@pytest.mark.parametrize("clients", [1, 7, 50])
def test_union_is_all_rows_and_disjoint(method: str, clients: int) -> None:
    y = _labels()
    part = partition(y, clients=clients, method=method, rng=np.random.default_rng(1))
    assert part.n_clients == clients
    assert part.method == method
    _check_cover(part, y.size)


def test_column_covers_all_rows() -> None:
    y = _labels(90)
    sites = np.array(["north", "south", "east"] * 30, dtype=object)
    part = partition(
        y, clients=99, method="column", column_values=sites, rng=np.random.default_rng(0)
    )
    _check_cover(part, y.size)


@pytest.mark.parametrize("method", ["iid", "dirichlet", "quantity"])
def test_same_seed_same_partition(method: str) -> None:
    y = _labels()
    a = partition(y, clients=9, method=method, alpha=0.3, rng=np.random.default_rng(42))
    b = partition(y, clients=9, method=method, alpha=0.3, rng=np.random.default_rng(42))
    c = partition(y, clients=9, method=method, alpha=0.3, rng=np.random.default_rng(43))
    assert all(np.array_equal(x, z) for x, z in zip(a.client_indices, b.client_indices))
    assert not all(np.array_equal(x, z) for x, z in zip(a.client_indices, c.client_indices))


def test_iid_sizes_near_equal() -> None:
    part = partition(_labels(103), clients=10, method="iid", rng=np.random.default_rng(0))
    assert sorted(set(part.sizes)) == [10, 11]


def test_dirichlet_small_alpha_more_skewed_than_large() -> None:
    y = _labels(3000, k=4)
    skewed = [
        _mean_entropy(
            partition(y, clients=10, method="dirichlet", alpha=0.1, rng=np.random.default_rng(s)), y
        )
        for s in range(5)
    ]
    even = [
        _mean_entropy(
            partition(y, clients=10, method="dirichlet", alpha=100.0, rng=np.random.default_rng(s)),
            y,
        )
        for s in range(5)
    ]
    assert np.mean(skewed) < 0.7 * np.mean(even)
    assert np.mean(even) > 0.95 * np.log(4), "alpha=100 should look almost IID"


def test_quantity_sizes_unequal_and_nonempty() -> None:
    y = _labels(2000)
    part = partition(y, clients=20, method="quantity", power=1.0, rng=np.random.default_rng(3))
    sizes = np.array(part.sizes)
    assert sizes.min() >= 1
    assert sizes.max() >= 4 * np.median(sizes)
    # Labels are IID within a client: large clients mirror the overall class mix.
    big = part.client_indices[int(sizes.argmax())]
    overall = np.bincount(y) / y.size
    assert np.abs(np.bincount(y[big], minlength=3) / big.size - overall).max() < 0.1


def test_quantity_with_as_many_clients_as_rows_gives_one_row_each() -> None:
    part = partition(_labels(12), clients=12, method="quantity", rng=np.random.default_rng(0))
    assert part.sizes == [1] * 12


def test_column_one_client_per_value() -> None:
    y = np.array([0, 1, 0, 1, 1, 0, 0])
    sites = np.array(["b", "a", "b", None, "c", "a", 3], dtype=object)
    part = partition(
        y, clients=2, method="column", column_values=sites, rng=np.random.default_rng(0)
    )
    assert part.n_clients == 5  # a, b, c, 3 and missing: ``clients`` is ignored
    by_label = dict(zip(part.labels, (idx.tolist() for idx in part.client_indices)))
    assert by_label["a"] == [1, 5]
    assert by_label["b"] == [0, 2]
    assert by_label["c"] == [4]
    assert by_label["3"] == [6]
    assert by_label["(missing)"] == [3]
    summary = part.summary(y, ["no", "yes"])
    assert [c["label"] for c in summary["clients"]] == list(part.labels)


def test_empty_clients_are_kept_and_reported() -> None:
    y = _labels(40, k=2)
    part = partition(y, clients=30, method="dirichlet", alpha=0.01, rng=np.random.default_rng(0))
    assert part.n_clients == 30, "empty clients must not be dropped"
    empty = part.empty_clients
    assert empty, "alpha=0.01 over 30 clients with 40 rows should leave some clients empty"
    _check_cover(part, y.size)
    summary = part.summary(y, ["a", "b"])
    assert summary["empty_client_indices"] == empty
    assert summary["empty_clients"] == [k + 1 for k in empty]
    assert all(summary["clients"][k]["rows"] == 0 for k in empty)


def test_summary_is_plain_json() -> None:
    y = _labels(200)
    part = partition(y, clients=4, method="dirichlet", rng=np.random.default_rng(0))
    summary = part.summary(y, ["x", "y", "z"])
    text = json.dumps(summary)  # raises on numpy types
    assert json.loads(text) == summary
    assert summary["n_clients"] == 4
    assert summary["n_rows"] == 200
    assert summary["class_names"] == ["x", "y", "z"]
    assert sum(summary["rows_per_client"]) == 200
    counts = np.array(summary["class_counts"])
    assert np.array_equal(counts.sum(axis=0), np.bincount(y, minlength=3))
    for client, idx in zip(summary["clients"], part.client_indices):
        assert client["rows"] == idx.size == sum(client["class_counts"])
    assert summary["empty_clients"] == []


def test_summary_with_string_labels() -> None:
    y = np.array(["cat", "dog", "dog", "cat", "emu"])
    part = partition(y, clients=2, method="iid", rng=np.random.default_rng(0))
    summary = part.summary(y, [])
    assert summary["class_names"] == ["cat", "dog", "emu"]
    assert np.array(summary["class_counts"]).sum(axis=0).tolist() == [2, 2, 1]


def test_indices_are_read_only() -> None:
    part = partition(_labels(20), clients=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError):
        part.client_indices[0][0] = 5


# -- errors a user can act on ---------------------------------------------------------------


def test_more_clients_than_rows() -> None:
    with pytest.raises(ValueError) as err:
        partition(_labels(30), clients=50, rng=np.random.default_rng(0))
    assert str(err.value) == (
        "You asked for 50 clients but the training split has only 30 rows; use at most 30 clients."
    )


@pytest.mark.parametrize("clients", [0, -3])
def test_too_few_clients(clients: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        partition(_labels(), clients=clients, rng=np.random.default_rng(0))


def test_too_many_clients() -> None:
    with pytest.raises(
        ValueError, match=f"at most {MAX_CLIENTS}.*Use {MAX_CLIENTS} clients or fewer"
    ):
        partition(_labels(5000), clients=MAX_CLIENTS + 1, rng=np.random.default_rng(0))


@pytest.mark.parametrize("alpha", [0.001, 0.0, -1.0, 101.0, float("nan")])
def test_alpha_out_of_range(alpha: float) -> None:
    with pytest.raises(ValueError, match="between 0.01 and 100") as err:
        partition(
            _labels(), clients=5, method="dirichlet", alpha=alpha, rng=np.random.default_rng(0)
        )
    assert "Small values" in str(err.value), "the message should say what alpha does"


def test_alpha_bounds_are_allowed() -> None:
    for alpha in (0.01, 100.0):
        part = partition(
            _labels(), clients=5, method="dirichlet", alpha=alpha, rng=np.random.default_rng(0)
        )
        _check_cover(part, 600)


def test_power_out_of_range() -> None:
    with pytest.raises(ValueError, match="power must be between"):
        partition(_labels(), clients=5, method="quantity", power=0.0, rng=np.random.default_rng(0))


def test_unknown_method_lists_choices() -> None:
    with pytest.raises(ValueError) as err:
        partition(_labels(), clients=5, method="random", rng=np.random.default_rng(0))
    for m in METHODS:
        assert m in str(err.value)


def test_column_without_values() -> None:
    with pytest.raises(ValueError, match="Choose a client column"):
        partition(_labels(), clients=5, method="column", rng=np.random.default_rng(0))


def test_column_wrong_length() -> None:
    with pytest.raises(ValueError, match="one value per training row"):
        partition(
            _labels(10),
            clients=5,
            method="column",
            column_values=np.arange(9),
            rng=np.random.default_rng(0),
        )


def test_column_with_too_many_values() -> None:
    n = MAX_CLIENTS + 5
    with pytest.raises(ValueError, match="Choose a column\\s+with fewer values"):
        partition(
            np.zeros(n, int),
            clients=1,
            method="column",
            column_values=np.arange(n),
            rng=np.random.default_rng(0),
        )


def test_empty_training_split() -> None:
    with pytest.raises(ValueError, match="no rows"):
        partition(np.array([], dtype=int), clients=1, rng=np.random.default_rng(0))
