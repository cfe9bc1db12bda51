"""Pairwise-mask secure aggregation: exact sums, masks that hide, dropout recovery."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from ppml_lab.engines.federated.secagg import (
    DEFAULT_SCALE_BITS,
    MAX_SUMMANDS,
    RECOVERY_BYTES_PER_SEED,
    SecAggClient,
    SecAggServer,
    decode,
    encode,
    expand_mask,
    from_bytes,
    max_abs_value,
    run_round,
    to_bytes,
)


def _clients(ids: list[int], seed: int = 0) -> dict[int, SecAggClient]:
    rng = np.random.default_rng(seed)
    return {i: SecAggClient(i, rng) for i in ids}


def _modsum(vectors: list[np.ndarray]) -> np.ndarray:
    total = np.zeros(vectors[0].size, dtype=np.uint64)
    for v in vectors:
        total += v
    return total


# -- fixed point -----------------------------------------------------------------------------


def test_encode_decode_roundtrip_with_negatives() -> None:
    x = np.array([0.0, 1.0, -1.0, 3.14159, -2.5e-3, 1e6, -1e6])
    enc = encode(x)
    assert enc.dtype == np.uint64
    assert enc[2] == np.uint64(2**64 - 2**DEFAULT_SCALE_BITS)  # two's complement of -1
    assert np.abs(decode(enc, 1) - x).max() <= 2.0 ** -(DEFAULT_SCALE_BITS + 1)


def test_clipping_bound_and_no_overflow_for_max_clients() -> None:
    bound = max_abs_value()
    assert 5e8 < bound < 5.4e8
    big = np.array([bound, -bound, 10 * bound, -1e300])
    enc = encode(big)
    dec = decode(enc, 1)
    assert dec[0] == pytest.approx(bound) and dec[1] == pytest.approx(-bound)
    assert dec[2] == pytest.approx(bound) and dec[3] == pytest.approx(-bound)  # clipped
    # The worst case: MAX_SUMMANDS clients all at the bound, of either sign, never wrap around.
    total = decode(enc * np.uint64(MAX_SUMMANDS), MAX_SUMMANDS)
    assert total[0] == pytest.approx(MAX_SUMMANDS * bound)
    assert total[1] == pytest.approx(-MAX_SUMMANDS * bound)
    with pytest.raises(ValueError, match="summands"):
        decode(enc, MAX_SUMMANDS + 1)


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan]), np.array([np.inf]), np.zeros((2, 2))])
def test_encode_rejects_bad_input(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        encode(bad)


def test_to_bytes_roundtrip_and_size() -> None:
    v = encode(np.linspace(-3, 3, 105))
    data = to_bytes(v)
    assert len(data) == 8 * 105
    assert data[:8] == int(v[0]).to_bytes(8, "little")
    assert np.array_equal(from_bytes(data), v)
    with pytest.raises(ValueError):
        from_bytes(data[:-1])


# -- the protocol ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_clients=st.integers(1, 12),
    dim=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
    n_dropped=st.integers(0, 3),
    round_id=st.integers(0, 10_000),
)
def test_masked_sum_equals_plain_sum(
    n_clients: int, dim: int, seed: int, n_dropped: int, round_id: int
) -> None:
    rng = np.random.default_rng(seed)
    # Sparse, non-contiguous ids: ordering must come from the ids, not positions.
    ids = sorted(rng.choice(10_000, size=n_clients, replace=False).tolist())
    dropped = ids[: min(n_dropped, n_clients - 1)] if n_clients > 1 else []
    rng.shuffle(dropped)
    updates = {i: rng.normal(0, 10.0 ** rng.integers(-3, 5), size=dim) for i in ids}
    clients = {i: SecAggClient(i, rng) for i in ids}
    total, report = run_round(updates, clients, round_id=round_id, dropped=dropped)
    survivors = [i for i in ids if i not in dropped]
    # Exact on the integer encoding: the masks cancel completely.
    expected = decode(_modsum([encode(updates[i]) for i in survivors]), len(survivors))
    assert np.array_equal(total, expected)
    plain = np.sum([updates[i] for i in survivors], axis=0)
    assert (
        np.abs(total - plain).max()
        <= len(survivors) * 2.0 ** -(DEFAULT_SCALE_BITS + 1) + 1e-9 * np.abs(plain).max()
    )
    assert report.survivors == len(survivors) and report.dropped == len(dropped)
    assert report.bytes_masked_uploads == 8 * dim * len(survivors)
    assert report.seeds_revealed == len(survivors) * len(dropped)
    assert report.bytes_recovery == report.seeds_revealed * RECOVERY_BYTES_PER_SEED


def test_masked_update_looks_uniform_and_unrelated_to_update() -> None:
    # Two clients is the weakest case: each update hides behind a single pair mask.
    dim = 4096
    clients = _clients([0, 1], seed=7)
    directory = {i: c.public_key_bytes() for i, c in clients.items()}
    update = np.linspace(-5, 5, dim)  # highly structured on purpose
    masked = clients[0].mask(update, directory, round_id=1)
    plain = encode(update)

    def top_bits_pvalue(words: np.ndarray) -> float:
        counts = np.bincount((words >> np.uint64(60)).astype(np.int64), minlength=16)
        return float(stats.chisquare(counts).pvalue)

    assert top_bits_pvalue(plain) < 1e-10, "the test must be able to tell structure from noise"
    assert top_bits_pvalue(masked) > 1e-4
    ks = stats.kstest(masked.astype(np.float64) / 2.0**64, "uniform")
    assert ks.pvalue > 1e-4
    signed = masked.view(np.int64).astype(np.float64)
    r = np.corrcoef(signed, update)[0, 1]
    assert abs(r) < 5 / np.sqrt(dim)  # ~0: 5 standard errors of a null correlation
    # The server's decoding of one masked upload says nothing useful either.
    assert np.abs(decode(masked, 1) - update).mean() > 1e6


def test_dropout_after_masking_is_recovered_exactly() -> None:
    ids = [3, 8, 11, 20, 42]
    clients = _clients(ids, seed=1)
    rng = np.random.default_rng(2)
    updates = {i: rng.normal(size=105) for i in ids}
    server = SecAggServer(dim=105)
    directory = server.relay_keys({i: clients[i].public_key_bytes() for i in ids})
    masked = {i: clients[i].mask(updates[i], directory, round_id=9) for i in ids}
    survivors, dropped = [3, 20, 42], [8, 11]
    for i in survivors:
        server.receive(i, to_bytes(masked[i]))
    server.receive(11, masked[11])  # late upload from a client declared dropped: discarded
    seeds = {s: {d: clients[s].reveal_pairwise_seed(d) for d in dropped} for s in survivors}
    total, report = server.finish(survivors, dropped, seeds)
    expected = decode(_modsum([encode(updates[i]) for i in survivors]), len(survivors))
    assert np.array_equal(total, expected)
    assert report.dropped == 2 and report.survivors == 3 and report.seeds_revealed == 6
    assert report.bytes_keys_up == 5 * 36 and report.bytes_keys_down == 5 * 4 * 36
    assert report.bytes_plain_float32 * 2 == report.bytes_plain_float64 == 3 * 105 * 8
    assert report.as_dict()["bytes_overhead"] == report.bytes_overhead


def test_without_recovery_the_sum_is_garbage() -> None:
    ids = [0, 1, 2]
    clients = _clients(ids)
    updates = {i: np.ones(50) for i in ids}
    directory = {i: c.public_key_bytes() for i, c in clients.items()}
    server = SecAggServer()
    for i in (0, 1):
        server.receive(i, clients[i].mask(updates[i], directory, 0))
    clients[2].mask(updates[2], directory, 0)
    with pytest.raises(ValueError, match="did not reveal"):
        server.finish([0, 1], [2], {0: {}, 1: {}})


def test_round_ids_give_different_masks() -> None:
    ids = [0, 1, 2, 3]
    clients = _clients(ids, seed=5)
    directory = {i: c.public_key_bytes() for i, c in clients.items()}
    update = np.arange(64, dtype=float)
    first = clients[1].mask(update, directory, round_id=1)
    second = clients[1].mask(update, directory, round_id=2)
    again = clients[1].mask(update, directory, round_id=2)
    assert np.mean(first == second) < 0.01
    assert np.array_equal(second, again), "masks are a deterministic function of keys and round"
    # The two rounds' differences are unrelated too: no mask reuse the server could cancel.
    assert np.mean((first - second) == np.uint64(0)) < 0.01


def test_pair_seed_is_symmetric_and_round_bound() -> None:
    clients = _clients([4, 9])
    directory = {i: c.public_key_bytes() for i, c in clients.items()}
    for c in clients.values():
        c.mask(np.zeros(3), directory, round_id=12)
    s49 = clients[4].reveal_pairwise_seed(9)
    assert s49 == clients[9].reveal_pairwise_seed(4, round_id=12)
    assert len(s49) == 32
    assert np.array_equal(expand_mask(s49, 5), expand_mask(s49, 8)[:5])
    with pytest.raises(ValueError, match="last masked"):
        clients[4].reveal_pairwise_seed(9, round_id=11)
    with pytest.raises(ValueError, match="did not mask with"):
        clients[4].reveal_pairwise_seed(5)


def test_seeded_keys_are_reproducible_and_os_keys_are_not() -> None:
    a = SecAggClient(0, np.random.default_rng(3)).public_key_bytes()
    b = SecAggClient(0, np.random.default_rng(3)).public_key_bytes()
    assert a == b and len(a) == 32
    assert SecAggClient(0).public_key_bytes() != SecAggClient(0).public_key_bytes()


def test_server_guards() -> None:
    clients = _clients([0, 1])
    directory = {i: c.public_key_bytes() for i, c in clients.items()}
    server = SecAggServer()
    server.receive(0, clients[0].mask(np.ones(4), directory, 0))
    with pytest.raises(ValueError, match="twice"):
        server.receive(0, clients[0].mask(np.ones(4), directory, 0))
    with pytest.raises(ValueError, match="expects 4"):
        server.receive(1, clients[1].mask(np.ones(5), directory, 0))
    with pytest.raises(ValueError, match="never uploaded"):
        server.finish([0, 1], [])
    with pytest.raises(ValueError, match="both"):
        server.finish([0], [0])
    with pytest.raises(ValueError, match="uint64"):
        server.receive(1, np.ones(4))
    server.receive(1, clients[1].mask(np.ones(4), directory, 0))
    total, _ = server.finish([0, 1], [])
    assert np.allclose(total, 2.0)
    with pytest.raises(RuntimeError):
        server.finish([0, 1], [])


def test_single_client_round_and_all_dropped() -> None:
    clients = _clients([5])
    total, report = run_round({5: np.array([1.5, -2.0])}, clients, round_id=0)
    assert np.allclose(total, [1.5, -2.0])  # no peers: nothing to hide behind (documented)
    clients = _clients([1, 2])
    total, report = run_round({1: np.ones(3), 2: np.ones(3)}, clients, round_id=0, dropped=[1, 2])
    assert np.array_equal(total, np.zeros(3)) and report.survivors == 0
