"""The CKKS layer: key separation (the server's context holds no secret key), packing, round trips,
encrypted aggregation against the plaintext sum, the packed training step against its twin."""

from __future__ import annotations

import numpy as np
import pytest

seal = pytest.importorskip("tenseal.sealapi")

from ppml_lab.engines.federated.strategies import Contribution  # noqa: E402
from ppml_lab.engines.he import plaintext, training  # noqa: E402
from ppml_lab.engines.he.aggregation import HEAggregation  # noqa: E402
from ppml_lab.engines.he.ckks import (  # noqa: E402
    PUBLIC_SECTIONS,
    KeyHolder,
    PublicEncryptor,
    Server,
    pack_context,
    pack_slots,
    unpack_context,
    unpack_slots,
)
from ppml_lab.engines.he.security import CKKSSettings  # noqa: E402


def _settings(mode: str = "scoring", preset: str = "auto") -> CKKSSettings:
    return CKKSSettings.resolve(mode=mode, preset=preset)


def _secret_key_bytes(owner: KeyHolder, tmp_path) -> bytes:
    path = str(tmp_path / "sk")
    owner._secret_key.save(path)  # the test, not the lab, looks at the key
    return (tmp_path / "sk").read_bytes()


def _holds_secret(obj, seen=None) -> bool:
    """Whether ``obj`` reaches a SEAL secret key, decryptor or key generator through attributes."""
    seen = seen if seen is not None else set()
    if id(obj) in seen:
        return False
    seen.add(id(obj))
    if isinstance(obj, (seal.SecretKey, seal.Decryptor, seal.KeyGenerator)):
        return True
    values = list(vars(obj).values()) if hasattr(obj, "__dict__") else []
    if isinstance(obj, dict):
        values = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        values = list(obj)
    return any(_holds_secret(v, seen) for v in values)


def test_the_servers_context_holds_no_secret_key(tmp_path) -> None:
    owner = KeyHolder(_settings("training"), relin_keys=True, rotations=True, public_key=True)
    server = Server(owner.public_context())
    blob = server.serialize()
    meta, sections = unpack_context(blob)
    assert set(sections) <= set(PUBLIC_SECTIONS) and "secret_key" not in sections
    assert {"parameters", "relin_keys", "galois_keys"} <= set(sections)
    # The secret key's serialised coefficients appear neither in what the server holds nor in
    # the public context the key holder hands out.
    secret = _secret_key_bytes(owner, tmp_path)
    probe = secret[-4096:]
    assert probe not in blob and probe not in owner.public_context()
    assert not _holds_secret(server)
    assert _holds_secret(owner)  # the check can see a key where there is one
    client = PublicEncryptor(owner.public_context())
    assert not _holds_secret(client) and not hasattr(client, "decrypt")
    with pytest.raises(ValueError, match="may not hold"):
        unpack_context(pack_context({"parameters": b"x"}, {}).replace(b"parameters", b"secret_key"))
    owner.close()
    server.close()
    client.close()


@pytest.mark.parametrize("complex_packing", [False, True])
def test_packing_puts_records_in_slots_and_back(complex_packing) -> None:
    values = np.arange(5.0)
    slots = pack_slots(values, 4, complex_packing=complex_packing) if complex_packing else None
    if complex_packing:
        assert slots == [0 + 4j, 1 + 0j, 2 + 0j, 3 + 0j]
        assert np.array_equal(unpack_slots(slots, 5, complex_packing=True), values)
    with pytest.raises(ValueError, match="do not fit"):
        pack_slots(np.arange(9.0), 4, complex_packing=True)
    owner = KeyHolder(_settings())
    x = np.random.default_rng(1).normal(size=2 * owner.slots if complex_packing else owner.slots)
    back = owner.decrypt(owner.encrypt(x, complex_packing=complex_packing), len(x),
                         complex_packing=complex_packing)
    assert np.max(np.abs(back - x)) < 1e-5
    owner.close()


def test_a_fresh_symmetric_ciphertext_is_seeded_and_half_size() -> None:
    owner = KeyHolder(_settings(), public_key=True)
    x = np.ones(10)
    symmetric = owner.encrypt(x)
    public = PublicEncryptor(owner.public_context()).encrypt(x, complex_packing=False)
    n, primes = 8192, 1  # fast scoring: one data prime
    assert len(public) > 2 * n * 8 * primes  # two polynomials
    assert len(symmetric) < 0.6 * len(public)  # one polynomial and a seed
    owner.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_encrypted_aggregation_equals_the_plaintext_sum(seed) -> None:
    rng = np.random.default_rng(seed)
    dim = int(rng.integers(5, 9000))  # one or more ciphertexts per upload (4,096 per one)
    contributions = [
        Contribution(client=k, vector=rng.normal(scale=50.0, size=dim), n_rows=int(rng.integers(1, 3000)))
        for k in range(6)
    ]
    dropped = [int(k) for k in rng.choice(6, size=2, replace=False)]
    transport = HEAggregation(_settings("aggregation"))
    report = transport.collect(contributions, dropped, model_bytes=8 * dim, round_id=1)
    kept = [c for c in contributions if c.client not in dropped]
    plain = sum(c.vector for c in kept)
    assert np.max(np.abs(report.total - plain)) < 1e-4
    assert report.n_rows_total == sum(c.n_rows for c in kept)
    assert sorted(report.survivors) == sorted(c.client for c in kept)
    assert sorted(report.dropped) == sorted(dropped)
    assert transport.max_abs_error < 1e-4
    assert report.extra["ciphertext_bytes"] > 0 and report.extra["context_bytes"] > 0
    assert report.bytes_up >= 6 * transport.ciphertexts_per_upload * 4096 * 8
    assert transport.ciphertexts_per_upload == -(-(dim + 1) // 4096)
    # The second round sends no public context again.
    again = transport.collect(contributions, [], model_bytes=8 * dim, round_id=2)
    assert again.extra["context_bytes"] == 0
    transport.close()


def test_packed_encrypted_training_follows_its_plaintext_twin() -> None:
    """TenSEAL's tutorial setting (780 rows x 9 features), several iterations and refreshes."""
    rng = np.random.default_rng(0)
    n, d = 780, 9
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(float)
    owner = KeyHolder(_settings("training"), relin_keys=True, rotations=True)
    server = Server(owner.public_context())
    columns, labels = training.encrypt_data(owner, X, y)
    trainer = training.TrainingServer(server, columns, labels, [n], step_size=1.0, l2=0.01, n=n)
    w = np.zeros(d + 1)
    for _ in range(4):
        W = [server.receive(b) for b in training.encrypt_weights(owner, w)]
        assert trainer.iterations_per_refresh(W) == 1
        W = trainer.iterate(W)
        assert server.levels_left(W[0]) == 0  # depth 4 of 4 used
        w = training.decrypt_weights(owner, [server.send(c) for c in W])
    twin = plaintext.train(X, y, iterations=4, step_size=1.0, l2=0.01)
    assert np.max(np.abs(w - twin)) < 1e-3
    owner.close()
    server.close()


def test_a_deeper_chain_runs_two_iterations_between_refreshes() -> None:
    """Depth 8 runs two iterations on the weights before the key holder refreshes them (a small,
    weak ring keeps the test fast; the preset 'training, depth 8' is tested in the engine)."""
    rng = np.random.default_rng(3)
    n, d = 300, 4
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) > 0).astype(float)
    settings = CKKSSettings.resolve(mode="training", preset="training, depth 8",
                                    poly_modulus_degree=4096)
    assert settings.security_bits == 0  # 430 bits at N = 4096: far below 128-bit security
    owner = KeyHolder(settings, allow_weak=True, relin_keys=True, rotations=True)
    server = Server(owner.public_context())
    columns, labels = training.encrypt_data(owner, X, y)
    trainer = training.TrainingServer(server, columns, labels, [n], step_size=0.5, l2=0.0, n=n)
    W = [server.receive(b) for b in training.encrypt_weights(owner, np.zeros(d + 1))]
    assert trainer.iterations_per_refresh(W) == 2
    W = trainer.iterate(trainer.iterate(W))
    assert server.levels_left(W[0]) == 0
    w = training.decrypt_weights(owner, [server.send(c) for c in W])
    assert np.max(np.abs(w - plaintext.train(X, y, iterations=2, step_size=0.5))) < 1e-4
    owner.close()
    server.close()
