"""Double-masked secure aggregation: exact sums, masks that hide, dropouts, refusals, threshold."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from ppml_lab.engines.federated.secagg import (
    DEFAULT_SCALE_BITS,
    FIELD_PRIME,
    ID_BYTES,
    KEY_BYTES,
    MAX_SUMMANDS,
    SHARE_BYTES,
    SHARE_MESSAGE_BYTES,
    KeyDirectory,
    SecAggClient,
    SecAggRefusal,
    SecAggServer,
    ThresholdError,
    decode,
    default_threshold,
    encode,
    expand_mask,
    from_bytes,
    mask_private_key,
    max_abs_value,
    pairwise_mask,
    recombine_secrets,
    run_round,
    self_mask,
    split_secrets,
    to_bytes,
)


def _clients(ids: list[int], seed: int = 0) -> dict[int, SecAggClient]:
    """Clients with seeded secrets: stable statistical tests (not secret, tests only)."""
    return {i: SecAggClient(i, rng=np.random.default_rng([seed, i])) for i in ids}


def _modsum(vectors: list[np.ndarray]) -> np.ndarray:
    total = np.zeros(vectors[0].size, dtype=np.uint64)
    for v in vectors:
        total += v
    return total


def _public(key) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _masked_round(clients, updates, round_id, *, threshold=None):
    """Run a round up to the masked uploads; return the server, roster and masked vectors."""
    server = SecAggServer(round_id, threshold=threshold)
    for i, c in clients.items():
        server.register(i, c.channel_public_key)
    roster = server.advertise({i: c.advertise(round_id) for i, c in clients.items()})
    inboxes = server.relay_shares({i: c.share_keys(roster) for i, c in clients.items()})
    masked = {i: clients[i].mask(updates[i], inboxes[i]) for i in clients}
    return server, roster, masked


def _share_of(response: bytes, roster, client_id: int) -> int:
    """The share about ``client_id`` in a survivor's unmasking answer (roster order)."""
    i = roster.x_of(client_id) - 1
    return int.from_bytes(response[i * SHARE_BYTES : (i + 1) * SHARE_BYTES], "little")


def _looks_uniform(words: np.ndarray) -> None:
    """Kolmogorov-Smirnov against uniform on [0, 1), and every one of the 64 bits set half the time."""
    n = words.size
    assert stats.kstest(words.astype(np.float64) / 2.0**64, "uniform").pvalue > 1e-4
    bits = (words[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    assert np.abs(bits.mean(axis=0) - 0.5).max() < 5 * 0.5 / np.sqrt(n)


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


def test_expand_mask_is_the_aes_ctr_keystream() -> None:
    seed = bytes(range(32))
    # AES-GCM's ciphertext of zeros is AES-CTR from the counter block nonce || 2.
    ctr = Cipher(algorithms.AES(seed), modes.CTR(bytes(12) + (2).to_bytes(4, "big"))).encryptor()
    expected = np.frombuffer(ctr.update(bytes(8 * 50)), dtype="<u8")
    assert np.array_equal(expand_mask(seed, 50), expected)
    assert np.array_equal(expand_mask(seed, 5), expand_mask(seed, 8)[:5])


# -- Shamir sharing (MPyC) -------------------------------------------------------------------


def test_reconstruction_with_fewer_than_t_shares_fails() -> None:
    rng = np.random.default_rng(0)
    values = [int.from_bytes(rng.bytes(16), "little") % FIELD_PRIME for _ in range(3)]
    n, t = 7, 4
    shares = split_secrets(values, t, n)
    assert all(0 <= s < FIELD_PRIME for row in shares for s in row)
    # Any t shares rebuild every secret ...
    for chosen in ([0, 1, 2, 3], [6, 4, 2, 0], [1, 3, 5, 6]):
        assert recombine_secrets([(i + 1, shares[i]) for i in chosen]) == values
    # ... t - 1 give wrong (random) values.
    for chosen in ([0, 1, 2], [4, 5, 6]):
        wrong = recombine_secrets([(i + 1, shares[i]) for i in chosen])
        assert all(w != v for w, v in zip(wrong, values))
    # A mask key rebuilt from t - 1 shares is not the advertised one, and the server notices.
    key_seed = values[0]
    advertised = _public(mask_private_key(key_seed, 5, 9))
    wrong_seed = recombine_secrets([(i + 1, shares[i]) for i in range(t - 1)])[0]
    assert _public(mask_private_key(wrong_seed, 5, 9)) != advertised
    with pytest.raises(ValueError, match="threshold"):
        split_secrets(values, n + 1, n)


def test_a_wrong_share_of_a_mask_key_is_detected() -> None:
    ids = [0, 1, 2, 3, 4]
    clients = _clients(ids, seed=3)
    updates = {i: np.ones(8) for i in ids}
    server, _, masked = _masked_round(clients, updates, 1)
    for i in (0, 1, 2, 3):
        server.receive(i, masked[i])
    survivors, dropped = server.unmask_request()
    responses = {s: bytearray(clients[s].unmask(survivors, dropped)) for s in survivors}
    responses[0][4 * SHARE_BYTES] ^= 1  # client 0's share of dropped client 4's mask-key seed
    with pytest.raises(ValueError, match="do not rebuild the key it advertised"):
        server.finish({s: bytes(r) for s, r in responses.items()})


# -- the protocol ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_clients=st.integers(1, 12),
    dim=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
    drop_share=st.floats(0.0, 1.0),
    threshold_share=st.one_of(st.none(), st.floats(0.0, 1.0)),
    round_id=st.integers(0, 10_000),
)
def test_masked_sum_equals_plain_sum(
    n_clients: int, dim: int, seed: int, drop_share: float, threshold_share, round_id: int
) -> None:
    rng = np.random.default_rng(seed)
    # Sparse, non-contiguous ids: ordering must come from the ids, not positions.
    ids = sorted(rng.choice(10_000, size=n_clients, replace=False).tolist())
    dropped = rng.permutation(ids)[: int(drop_share * n_clients)].tolist()
    t = None if threshold_share is None else 1 + int(threshold_share * (n_clients - 1))
    updates = {i: rng.normal(0, 10.0 ** rng.integers(-3, 5), size=dim) for i in ids}
    outcome = run_round(_clients(ids, seed), updates, round_id=round_id, dropped=dropped, threshold=t)
    survivors = [i for i in ids if i not in dropped]
    n, s, d = n_clients, len(survivors), len(dropped)
    t_eff = default_threshold(n) if t is None else t
    report = outcome.report
    assert report.threshold == t_eff and report.survivors == s and report.dropped == d
    # Up to the masked uploads, a round costs the same whether it completes or not.
    assert report.bytes_shares_up == report.bytes_shares_down == n * (n - 1) * SHARE_MESSAGE_BYTES
    assert report.bytes_keys_up == n * (KEY_BYTES + ID_BYTES) + n * KEY_BYTES
    assert report.bytes_masked_uploads == 8 * dim * s
    assert set(outcome.lost_uploads) == set(dropped)
    if s < t_eff:
        assert outcome.total is None and "fewer than the secure-aggregation threshold" in outcome.aborted
        assert report.seeds_revealed == report.bytes_recovery == 0
        assert not outcome.server.self_seeds and not outcome.server.mask_key_seeds
        return
    # Exact on the integer encoding: the self-masks and pair masks are removed completely.
    expected = decode(_modsum([encode(updates[i]) for i in survivors]), s)
    assert not outcome.aborted and np.array_equal(outcome.total, expected)
    plain = np.sum([updates[i] for i in survivors], axis=0)
    assert np.abs(outcome.total - plain).max() <= s * 2.0 ** -(DEFAULT_SCALE_BITS + 1) + 1e-9 * np.abs(plain).max()
    assert report.seeds_revealed == n and report.shares_revealed == s * n
    assert report.bytes_recovery == s * n * SHARE_BYTES
    assert report.bytes_recovery_down == s * d * ID_BYTES
    # The server learned one secret per client: the self-mask seed of each survivor, the
    # mask-key seed of each dropped client; never both.
    assert set(outcome.server.self_seeds) == set(survivors)
    assert set(outcome.server.mask_key_seeds) == set(dropped)


def test_bytes_are_the_serialised_message_sizes() -> None:
    ids = [2, 5, 9, 14]
    clients = _clients(ids, seed=4)
    directory = KeyDirectory()
    dim = 33
    for round_id, drop in ((1, [9]), (2, [])):
        n = len(ids)
        server = SecAggServer(round_id, directory=directory, dim=dim)
        sent = dict.fromkeys(("keys_up", "keys_down", "shares", "masked", "rec_up", "rec_down"), 0)
        for i in ids:
            new = i not in directory
            server.register(i, clients[i].channel_public_key)
            sent["keys_up"] += (len(clients[i].channel_public_key) + ID_BYTES) if new else 0
        mask_keys = {i: clients[i].advertise(round_id) for i in ids}
        sent["keys_up"] += sum(len(k) for k in mask_keys.values())
        roster = server.advertise(mask_keys)
        for i in ids:  # each downloads peer ids and mask keys, and new peers' channel keys
            peers = [p for p in roster.participants if p != i]
            sent["keys_down"] += sum(ID_BYTES + len(roster.mask_keys[p]) for p in peers)
            sent["keys_down"] += sum(len(roster.channel_keys[p]) for p in peers) if round_id == 1 else 0
        outboxes = {i: clients[i].share_keys(roster) for i in ids}
        sent["shares"] = sum(len(c) for box in outboxes.values() for c in box.values())
        inboxes = server.relay_shares(outboxes)
        for i in ids:
            data = to_bytes(clients[i].mask(np.full(dim, float(i)), inboxes[i]))
            if i not in drop:
                server.receive(i, data)
                sent["masked"] += len(data)
        survivors, dropped = server.unmask_request()
        sent["rec_down"] = len(survivors) * len(dropped) * ID_BYTES  # the dropped ids, to each
        responses = {s: clients[s].unmask(survivors, dropped) for s in survivors}
        sent["rec_up"] = sum(len(r) for r in responses.values())
        total, report = server.finish(responses)
        assert np.allclose(total, sum(float(i) for i in survivors))
        assert report.bytes_keys_up == sent["keys_up"]
        assert report.bytes_keys_down == sent["keys_down"]
        assert report.bytes_shares_up == report.bytes_shares_down == sent["shares"] == n * (n - 1) * 48
        assert report.bytes_masked_uploads == sent["masked"] == report.bytes_plain_float64
        assert report.bytes_recovery == sent["rec_up"] == len(survivors) * n * SHARE_BYTES
        assert report.bytes_recovery_down == sent["rec_down"]
        assert report.bytes_overhead == sum(sent.values()) + sent["shares"] - sent["masked"]
        assert report.as_dict()["bytes_overhead"] == report.bytes_overhead
    # Second round: channel keys were registered and downloaded once, in round 1.
    assert report.bytes_keys_up == n * KEY_BYTES


def test_server_view_of_one_upload_looks_uniform() -> None:
    # Two clients is the weakest case for pair masks; the self-mask hides the update anyway.
    dim = 20_000
    clients = _clients([0, 1], seed=7)
    update = np.linspace(-1, 1, dim)  # highly structured on purpose
    _, _, masked = _masked_round(clients, {0: update, 1: np.zeros(dim)}, 1)
    plain = encode(update)
    top = np.bincount((plain >> np.uint64(60)).astype(np.int64), minlength=16)
    assert stats.chisquare(top).pvalue < 1e-10, "the test must be able to tell structure from noise"
    _looks_uniform(masked[0])
    as_unit = masked[0].astype(np.float64) / 2.0**64
    assert abs(np.corrcoef(as_unit, update)[0, 1]) < 5 / np.sqrt(dim)
    assert abs(np.corrcoef(as_unit, plain.astype(np.float64))[0, 1]) < 5 / np.sqrt(dim)
    # The server's decoding of one masked upload says nothing useful either.
    assert np.abs(decode(masked[0], 1) - update).mean() > 1e6
    # A constant update masks to the same distribution (two-sample KS), and another round's
    # masks are entirely different.
    _, _, again = _masked_round(clients, {0: np.zeros(dim), 1: np.zeros(dim)}, 2)
    assert stats.ks_2samp(as_unit, again[0].astype(np.float64) / 2.0**64).pvalue > 1e-4
    assert np.mean(again[0] == masked[0]) < 1e-3


def test_late_upload_of_a_dropped_client_still_decodes_to_noise() -> None:
    """The flaw of pairwise-only masking: a late upload unmasked to the exact update. No more."""
    dim = 20_000
    ids = [0, 1, 2, 3, 4]
    rng = np.random.default_rng(1)
    update = np.linspace(-1, 1, dim)
    updates = {i: update if i == 2 else rng.normal(size=dim) for i in ids}
    clients = _clients(ids, seed=11)
    outcome = run_round(clients, updates, round_id=3, dropped=[2])
    survivors = [0, 1, 3, 4]
    assert np.array_equal(outcome.total, decode(_modsum([encode(updates[i]) for i in survivors]), 4))
    server = outcome.server
    late = outcome.lost_uploads[2]
    # The honest server refuses it: the round is closed.
    with pytest.raises(RuntimeError, match="late upload"):
        server.receive(2, late)
    # A curious server knows client 2's round mask key (rebuilt from the survivors' shares) and
    # strips every one of its pair masks from the late upload ...
    key = mask_private_key(server.mask_key_seeds[2], 3, 2)
    assert _public(key) == server.roster.mask_keys[2]
    assert 2 not in server.self_seeds
    peers = {v: server.roster.mask_keys[v] for v in ids if v != 2}
    stripped = from_bytes(late) - pairwise_mask(key, 2, peers, 3, dim)
    # ... and is left with the update under the self-mask: uniform noise.
    _looks_uniform(stripped)
    assert abs(np.corrcoef(stripped.astype(np.float64), update)[0, 1]) < 5 / np.sqrt(dim)
    assert np.abs(decode(stripped, 1) - update).mean() > 1e6
    # Control: the self-mask is what hides it. Its seed, which only client 2 holds, would give
    # the exact update back (what pairwise-only masking leaked).
    b2 = clients[2]._state.self_seed
    assert np.array_equal(stripped - self_mask(b2, 3, 2, dim), encode(update))


def test_server_that_falsely_reports_a_client_dropped_does_not_unmask_it() -> None:
    ids = [0, 1, 2, 3, 4]
    t = default_threshold(5)
    assert t == 3
    dim = 4096
    update = np.linspace(-5, 5, dim)
    updates = {i: update if i == 2 else np.zeros(dim) for i in ids}
    clients = _clients(ids, seed=5)
    server, roster, masked = _masked_round(clients, updates, 1)
    survivors = [0, 1, 3, 4]
    # Client 2's upload arrived, but the server tells clients 0, 1, 3 that it dropped ...
    points = [(roster.x_of(v), [_share_of(clients[v].unmask(survivors, [2]), roster, 2)]) for v in (0, 1, 3)]
    (key_seed,) = recombine_secrets(points)
    key = mask_private_key(key_seed, 1, 2)
    assert _public(key) == roster.mask_keys[2]  # it got client 2's mask key ...
    stripped = masked[2] - pairwise_mask(key, 2, {v: roster.mask_keys[v] for v in survivors}, 1, dim)
    _looks_uniform(stripped)  # ... which leaves the update under its self-mask.
    # ... and that client 2 survived to get its self-mask seed: clients already asked refuse.
    for v in (0, 1, 3):
        with pytest.raises(SecAggRefusal, match="reported as dropped earlier"):
            clients[v].unmask(ids, [])
    # Only clients 2 and 4 were not asked yet: 2 shares of b_2, fewer than t = 3.
    b_shares = [(roster.x_of(v), [_share_of(clients[v].unmask(ids, []), roster, 2)]) for v in (2, 4)]
    assert len(b_shares) < t
    wrong_b = recombine_secrets(b_shares)[0]
    assert wrong_b != clients[2]._state.self_seed


def test_split_view_attack_works_only_below_a_majority() -> None:
    """Why the default threshold is a majority: with t <= n/2 two disjoint groups suffice."""
    ids = [0, 1, 2, 3, 4]
    dim = 512
    update = np.linspace(-5, 5, dim)
    updates = {i: update if i == 2 else np.zeros(dim) for i in ids}
    clients = _clients(ids, seed=6)
    server, roster, masked = _masked_round(clients, updates, 1, threshold=2)
    # Clients 0, 1 are told "2 dropped", clients 3, 4 "2 survived": nobody sees a conflict.
    key_pts = [(roster.x_of(v), [_share_of(clients[v].unmask([0, 1, 3, 4], [2]), roster, 2)]) for v in (0, 1)]
    b_pts = [(roster.x_of(v), [_share_of(clients[v].unmask(ids, []), roster, 2)]) for v in (3, 4)]
    key = mask_private_key(recombine_secrets(key_pts)[0], 1, 2)
    b2 = recombine_secrets(b_pts)[0]
    peers = {v: roster.mask_keys[v] for v in ids if v != 2}
    exposed = masked[2] - pairwise_mask(key, 2, peers, 1, dim) - self_mask(b2, 1, 2, dim)
    assert np.array_equal(exposed, encode(update))


def test_client_refuses_to_reveal_both_secrets_of_one_client() -> None:
    ids = [0, 1, 2, 3, 4]
    clients = _clients(ids, seed=8)
    _, _, _ = _masked_round(clients, {i: np.ones(4) for i in ids}, 1)
    c = clients[0]
    with pytest.raises(SecAggRefusal, match="both as surviving and as dropped"):
        c.unmask([0, 1, 2, 3], [3, 4])
    with pytest.raises(SecAggRefusal, match="exactly the participants"):
        c.unmask([0, 1, 2], [3])
    with pytest.raises(SecAggRefusal, match="reported as dropped"):
        c.unmask([1, 2, 3, 4], [0])
    with pytest.raises(SecAggRefusal, match="fewer than the threshold"):
        c.unmask([0, 1], [2, 3, 4])
    # A first (valid) request: 4 survived, 3 dropped ...
    first = c.unmask([0, 1, 2, 4], [3])
    assert len(first) == 5 * SHARE_BYTES
    assert c.unmask([0, 1, 2, 4], [3]) == first  # the same request again: same answer
    # ... then a key share for a client reported surviving, or a self-mask share for one
    # reported dropped, is refused.
    with pytest.raises(SecAggRefusal, match="client 4 was reported as survived"):
        c.unmask([0, 1, 2], [3, 4])
    with pytest.raises(SecAggRefusal, match="client 3 was reported as dropped"):
        c.unmask(ids, [])


def test_below_threshold_server_cannot_finish() -> None:
    ids = [0, 1, 2, 3, 4]
    clients = _clients(ids, seed=9)
    updates = {i: np.ones(6) for i in ids}
    # Fewer uploads than t = 3: the server cannot even ask for shares.
    server, _, masked = _masked_round(clients, updates, 1)
    for i in (0, 1):
        server.receive(i, masked[i])
    with pytest.raises(ThresholdError, match="only 2 of 5 clients' masked updates arrived"):
        server.unmask_request()
    with pytest.raises(RuntimeError, match="unmask_request"):
        server.finish({})
    # Enough uploads, but only t - 1 answers: it cannot finish either.
    server, _, masked = _masked_round(clients, updates, 2)
    for i in (0, 1, 2):
        server.receive(i, masked[i])
    survivors, dropped = server.unmask_request()
    answers = {s: clients[s].unmask(survivors, dropped) for s in (0, 1)}
    with pytest.raises(ThresholdError, match="only 2 survivors returned their shares"):
        server.finish(answers)
    # run_round turns it into data: an aborted round with the plain message, no sum.
    outcome = run_round(clients, updates, round_id=3, dropped=[0, 2, 4])
    assert outcome.total is None
    assert "fewer than the secure-aggregation threshold of 3" in outcome.aborted
    assert "no update was applied" in outcome.aborted
    # A threshold above the participants is refused before anything is shared.
    outcome = run_round(clients, updates, round_id=4, threshold=6)
    assert outcome.total is None and "needs at least 6 clients" in outcome.aborted
    assert outcome.report.bytes_shares_up == 0


def test_mask_keys_are_fresh_every_round_and_channel_keys_are_not() -> None:
    ids = [0, 1, 2]
    clients = _clients(ids, seed=10)
    directory = KeyDirectory()
    updates = {i: np.ones(16) for i in ids}
    first = run_round(clients, updates, round_id=1, dropped=[1], threshold=2, directory=directory)
    second = run_round(clients, updates, round_id=2, threshold=2, directory=directory)
    r1, r2 = first.server.roster, second.server.roster
    assert r1.channel_keys == r2.channel_keys
    assert all(r1.mask_keys[i] != r2.mask_keys[i] for i in ids)
    # The mask-key seed revealed for dropped client 1 in round 1 says nothing about round 2.
    seed1 = first.server.mask_key_seeds[1]
    assert _public(mask_private_key(seed1, 1, 1)) == r1.mask_keys[1]
    assert _public(mask_private_key(seed1, 2, 1)) != r2.mask_keys[1]
    # A client takes part in a round id once (it keys the one-message share encryption).
    with pytest.raises(ValueError, match="used once"):
        clients[0].advertise(2)


def test_tampered_share_messages_are_detected() -> None:
    ids = [0, 1, 2]
    clients = _clients(ids, seed=12)
    server = SecAggServer(1)
    for i, c in clients.items():
        server.register(i, c.channel_public_key)
    roster = server.advertise({i: c.advertise(1) for i, c in clients.items()})
    inboxes = server.relay_shares({i: c.share_keys(roster) for i, c in clients.items()})
    inboxes[0][1] = bytes([inboxes[0][1][0] ^ 1]) + inboxes[0][1][1:]
    for i in ids:
        server.receive(i, clients[i].mask(np.ones(3), inboxes[i]))
    with pytest.raises(ValueError, match="do not authenticate"):
        clients[0].unmask(*server.unmask_request())


def test_single_client_round_and_all_dropped() -> None:
    clients = _clients([5])
    outcome = run_round(clients, {5: np.array([1.5, -2.0])}, round_id=0)
    # One participant: threshold 1, its own share is its self-mask seed; nothing to hide behind
    # (documented).
    assert outcome.report.threshold == 1 and np.allclose(outcome.total, [1.5, -2.0])
    clients = _clients([1, 2])
    outcome = run_round(clients, {1: np.ones(3), 2: np.ones(3)}, round_id=0, dropped=[1, 2])
    assert outcome.total is None and "only 0 of 2" in outcome.aborted


def test_seeded_secrets_are_reproducible_and_os_secrets_are_not() -> None:
    a = SecAggClient(0, rng=np.random.default_rng(3))
    b = SecAggClient(0, rng=np.random.default_rng(3))
    assert a.channel_public_key == b.channel_public_key and len(a.channel_public_key) == 32
    assert a.advertise(1) == b.advertise(1)
    assert SecAggClient(0).channel_public_key != SecAggClient(0).channel_public_key
    assert SecAggClient(0).advertise(1) != SecAggClient(0).advertise(1)


def test_server_guards() -> None:
    ids = [0, 1]
    clients = _clients(ids)
    server, _, masked = _masked_round(clients, {0: np.ones(4), 1: np.ones(4)}, 0)
    server.receive(0, masked[0])
    with pytest.raises(ValueError, match="twice"):
        server.receive(0, masked[0])
    with pytest.raises(ValueError, match="expects 4"):
        server.receive(1, masked[1][:3])
    with pytest.raises(ValueError, match="uint64"):
        server.receive(1, np.ones(4))
    with pytest.raises(ValueError, match="not a participant"):
        server.receive(7, masked[1])
    server.receive(1, masked[1])
    survivors, dropped = server.unmask_request()
    total, _ = server.finish({s: clients[s].unmask(survivors, dropped) for s in survivors})
    assert np.allclose(total, 2.0)
    with pytest.raises(RuntimeError):
        server.finish({})
    with pytest.raises(ValueError, match="unregistered|registered"):
        SecAggServer(1).advertise({0: bytes(32)})
    directory = KeyDirectory()
    directory.register(0, bytes(32))
    with pytest.raises(ValueError, match="another channel key"):
        directory.register(0, bytes([1]) * 32)
