"""The HE engine's run: encrypted scoring, encrypted training or HE aggregation, each next to its
plaintext twin, with the costs of encryption as events.

Every mode makes its keys first (timed apart from the rest: key generation is not on the hot
path), then works in steps (scoring batches, training iterations, federated rounds), yielding
progress and the running costs after each: encryption, the server's compute, decryption and
(de)serialisation time, bytes of ciphertexts and of the public context, and the largest error of
the decrypted results against the plaintext twin.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken, EngineResult
from ppml_lab.engines.common import evaluate, metric_events
from ppml_lab.engines.events import Event, Metric, Overhead, Progress
from ppml_lab.engines.he import plaintext
from ppml_lab.engines.he.params import HEParams
from ppml_lab.engines.he.security import MODE_DEPTH, CKKSSettings
from ppml_lab.models import LinearModel, ModelParams, make_model, sgd_epoch

#: Above this estimated memory for the encrypted training data the run is refused.
MAX_TRAINING_BYTES = 3e9


def training_bytes(settings: CKKSSettings, rows: int, features: int) -> float:
    """Memory the server needs for the encrypted training data (fresh and one lower copy)."""
    blocks = -(-rows // settings.slots)
    per_ct = 2 * settings.poly_modulus_degree * 8 * (len(settings.coeff_mod_bit_sizes) - 1)
    return blocks * (features + 1) * per_ct * 1.5


def check(data: PreparedData, model: ModelParams, params: HEParams) -> None:
    """Refuse what the encrypted modes cannot run, with what to change (before any key is made)."""
    s = params.settings
    problems = s.problems(params.mode, allow_weak=params.allow_weak)
    if problems:
        raise ValueError("; ".join(problems))
    if params.mode == "training" and data.n_classes != 2:
        raise ValueError(
            f"the encrypted training trains a two-class logistic model; this target has "
            f"{data.n_classes} class{'es' if data.n_classes != 1 else ''}. Choose a yes/no "
            "target."
        )
    if params.mode == "scoring" and model.kind != "logistic":
        raise ValueError(
            "encrypted scoring applies a linear (logistic) model: the server cannot apply an "
            "MLP's activations to ciphertexts here. Choose the logistic model."
        )
    if params.mode == "scoring" and len(data.y_test) == 0:
        raise ValueError("encrypted scoring needs test records; the test split is empty")
    if params.mode == "training":
        need = training_bytes(s, data.n_train, data.n_features)
        if need > MAX_TRAINING_BYTES:
            raise ValueError(
                f"encrypting {data.n_train:,} rows x {data.n_features} features for training "
                f"needs about {need / 1e9:.1f} GB of ciphertexts; use fewer rows or features "
                "(or the scoring or aggregation mode)"
            )
    if params.mode == "aggregation" and params.clients > data.n_train:
        raise ValueError(
            f"You asked for {params.clients} clients but the training split has only "
            f"{data.n_train} rows; use at most {data.n_train} clients."
        )


def run_he(
    data: PreparedData, model: ModelParams, params: HEParams, *, seed: int, cancel: CancelToken,
) -> Generator[Event, None, EngineResult]:
    check(data, model, params)
    if params.mode == "scoring":
        return (yield from _run_scoring(data, model, params, seed=seed, cancel=cancel))
    if params.mode == "training":
        return (yield from _run_training(data, model, params, cancel=cancel))
    return (yield from _run_aggregation(data, model, params, seed=seed, cancel=cancel))


# -- shared ---------------------------------------------------------------------------------------


def _section(params: HEParams, **extra: Any) -> dict[str, Any]:
    s = params.settings
    return {
        "mode": params.mode,
        "preset": s.label,
        "poly_modulus_degree": s.poly_modulus_degree,
        "coeff_mod_bit_sizes": list(s.coeff_mod_bit_sizes),
        "total_modulus_bits": s.total_bits,
        "scale_bits": s.scale_bits,
        "security_bits": s.security_bits or None,
        "security": s.security_text(),
        "security_source": "HomomorphicEncryption.org standard, Table 1 (classical, ternary "
        "secret) = SEAL CoeffModulus::MaxBitCount",
        "depth_budget": s.depth_budget,
        "slots": s.slots,
        **extra,
    }


def _cost_events(step: int, costs: dict[str, float]) -> list[Event]:
    units = {"seconds": "s", "bytes": "B"}
    out: list[Event] = []
    for kind, value in costs.items():
        unit = next((u for word, u in units.items()
                     if kind.endswith(word) or kind.startswith(word + "_")), "")
        if kind == "records_per_second":
            unit = "/s"
        elif kind in ("time_vs_plaintext", "expansion_vs_float64"):
            unit = "x"
        out.append(Overhead(step=step, kind=kind, value=float(value), unit=unit))
    return out


def _weak_warning(params: HEParams) -> list[str]:
    s = params.settings
    if s.security_bits:
        return []
    return [f"NOT PRIVATE: {s.security_text()}; the encryption may be breakable."]


def linear_model(weights: np.ndarray, n_features: int) -> LinearModel:
    """A two-class logistic model from coefficients followed by the intercept."""
    net = LinearModel(n_features=n_features, n_classes=2)
    w = np.asarray(weights, dtype=np.float64)
    net.params = [w[:n_features].reshape(-1, 1).copy(), w[n_features:n_features + 1].copy()]
    return net


# -- scoring --------------------------------------------------------------------------------------


def _run_scoring(
    data: PreparedData, model: ModelParams, params: HEParams, *, seed: int, cancel: CancelToken,
) -> Generator[Event, None, EngineResult]:
    from ppml_lab.engines.he.ckks import KeyHolder, Server
    from ppml_lab.engines.he.scoring import batches, score_batch

    s = params.settings
    t_start = time.perf_counter()
    # The server's model: trained in plaintext exactly as the baseline trains (same seed).
    rng = np.random.default_rng(seed)
    net = make_model(model, n_features=data.n_features, n_classes=data.n_classes, rng=rng)
    yield Progress(step=0, total=1, message="the server trains its model in plaintext")
    for _ in range(model.epochs):
        cancel.raise_if_cancelled()
        sgd_epoch(net, data.X_train, data.y_train, batch_size=model.batch_size,
                  learning_rate=model.learning_rate, l2=model.l2, rng=rng)
    train_seconds = time.perf_counter() - t_start
    W, b = net.params
    X = data.X_test
    t0 = time.perf_counter()
    plain_scores = plaintext.score(X, W, b)
    plaintext_seconds = time.perf_counter() - t0
    owner = KeyHolder(s, allow_weak=params.allow_weak)
    public = owner.public_context()
    server = Server(public)
    yield from _cost_events(0, {"keygen_seconds": owner.keygen_seconds,
                                "context_bytes": len(public)})
    parts = batches(len(X), owner.slots)
    total = len(parts)
    scores = np.zeros_like(plain_scores)
    bytes_up, bytes_down, depth_used = len(public), 0, 0
    ct_bytes = 0
    error = 0.0
    try:
        for step, rows in enumerate(parts, 1):
            cancel.raise_if_cancelled()
            columns = [owner.encrypt(X[rows, j], complex_packing=True) for j in range(X.shape[1])]
            up = sum(len(c) for c in columns)
            results, depth_used = score_batch(
                server, columns, W, b, first_prime_bits=s.coeff_mod_bit_sizes[0],
                scale_bits=s.scale_bits,
            )
            down = sum(len(r) for r in results)
            n = rows.stop - rows.start
            scores[rows] = np.stack(
                [owner.decrypt(r, n, complex_packing=True) for r in results], axis=1)
            bytes_up += up
            bytes_down += down
            ct_bytes += up + down
            error = float(np.max(np.abs(scores[:rows.stop] - plain_scores[:rows.stop])))
            done = rows.stop
            costs = _scoring_costs(owner, server, ct_bytes, bytes_up, bytes_down, done,
                                   X.shape[1], t_start + train_seconds)
            costs["max_abs_error"] = error
            costs["depth_used"] = depth_used
            yield from _cost_events(step, costs)
            yield Progress(step=step, total=total,
                           message=f"scoring batch {step}/{total}: {done:,} of {len(X):,} "
                           "records scored on ciphertexts")
    finally:
        owner.close()
        server.close()
    final = _accuracy(scores, plain_scores, data.y_test)
    losses = getattr(net, "_losses_from_logits", None)
    if losses is not None:
        final["test_loss"] = float(np.mean(losses(scores, data.y_test)))
    wall = time.perf_counter() - t_start
    overhead = {
        "seconds": wall,
        "train_seconds": train_seconds,
        "keygen_seconds": owner.keygen_seconds,
        "plaintext_seconds": plaintext_seconds,
        "context_bytes": float(len(public)),
        **_scoring_costs(owner, server, ct_bytes, bytes_up, bytes_down, len(X), X.shape[1],
                         t_start + train_seconds),
    }
    hot = overhead["encrypt_seconds"] + overhead["compute_seconds"] + overhead["decrypt_seconds"]
    if plaintext_seconds > 0:
        overhead["time_vs_plaintext"] = hot / plaintext_seconds
    if "test_loss" in final:
        yield Metric(step=total, name="test_loss", value=final["test_loss"])
    yield Metric(step=total, name="test_accuracy", value=final["test_accuracy"])
    yield Metric(step=total, name="plaintext_test_accuracy",
                 value=final["plaintext_test_accuracy"])
    section = _section(
        params, depth_used=depth_used, ciphertext_bytes=ct_bytes, context_bytes=len(public),
        packing="column-wise, two records per complex slot",
        records_per_ciphertext=2 * owner.slots, batches=total, outputs=int(W.shape[1]),
        encryption="symmetric (the data owner holds the secret key), seeded ciphertexts",
    )
    # Train figures from the plaintext model; test figures from the decrypted scores.
    return EngineResult(
        model=net, final={**evaluate(net, data), **final}, overhead=overhead,
        fidelity={"max_abs_error": error}, sections={"he": section},
        extra={"records_scored": int(len(X))}, warnings=_weak_warning(params),
    )


def _scoring_costs(owner: Any, server: Any, ct_bytes: int, up: int, down: int, records: int,
                   features: int, t_begin: float) -> dict[str, float]:
    hot = owner.encrypt_seconds + server.compute_seconds + owner.decrypt_seconds + (
        owner.serialize_seconds + server.serialize_seconds)
    return {
        **_he_costs(owner, server, up, down, ct_bytes),
        "bytes_per_record": ct_bytes / max(1, records),
        "expansion_vs_float64": ct_bytes / max(1, 8 * records * features),
        "records_per_second": records / hot if hot > 0 else 0.0,
    }


def _accuracy(scores: np.ndarray, plain: np.ndarray, y: np.ndarray) -> dict[str, float]:
    def predict(z: np.ndarray) -> np.ndarray:
        return (z[:, 0] > 0).astype(np.int64) if z.shape[1] == 1 else np.argmax(z, axis=1)

    return {"test_accuracy": float(np.mean(predict(scores) == y)),
            "plaintext_test_accuracy": float(np.mean(predict(plain) == y))}


# -- training -------------------------------------------------------------------------------------


def _run_training(
    data: PreparedData, model: ModelParams, params: HEParams, *, cancel: CancelToken,
) -> Generator[Event, None, EngineResult]:
    from ppml_lab.engines.he import training
    from ppml_lab.engines.he.ckks import KeyHolder, Server

    s = params.settings
    t_start = time.perf_counter()
    X, y = data.X_train, data.y_train.astype(np.float64)
    d = data.n_features
    t0 = time.perf_counter()
    twin = plaintext.train(X, y, iterations=params.iterations, step_size=params.step_size,
                           l2=float(model.l2))
    plaintext_seconds = time.perf_counter() - t0
    yield Progress(step=0, total=params.iterations, message="making the keys")
    owner = KeyHolder(s, allow_weak=params.allow_weak, relin_keys=True, rotations=True)
    public = owner.public_context()
    server = Server(public)
    yield from _cost_events(0, {"keygen_seconds": owner.keygen_seconds,
                                "context_bytes": len(public)})
    yield Progress(step=0, total=params.iterations,
                   message=f"encrypting {data.n_train:,} rows x {d} features")
    row_blocks = training.blocks(data.n_train, owner.slots)
    columns, labels = training.encrypt_data(owner, X, y)
    bytes_up = len(public) + sum(len(c) for block in columns for c in block) + sum(
        len(c) for c in labels)
    bytes_down = 0
    ct_bytes = bytes_up - len(public)
    data_bytes = ct_bytes
    yield from _cost_events(0, {"expansion_vs_float64": data_bytes / (8 * data.n_train * (d + 1))})
    trainer = training.TrainingServer(
        server, columns, labels, [r.stop - r.start for r in row_blocks],
        step_size=params.step_size, l2=float(model.l2), n=data.n_train,
    )
    w = np.zeros(d + 1)
    done = refreshes = per_refresh = 0
    error = 0.0
    metrics: dict[str, float] = {}
    diverged = False
    try:
        while done < params.iterations:
            blobs = training.encrypt_weights(owner, w)  # the key holder (re-)encrypts
            bytes_up += sum(len(b) for b in blobs)
            ct_bytes += sum(len(b) for b in blobs)
            W = [server.receive(b) for b in blobs]
            per_refresh = trainer.iterations_per_refresh(W)
            now = min(per_refresh, params.iterations - done)
            for i in range(now):
                cancel.raise_if_cancelled()
                W = trainer.iterate(W)
                done += 1
                events: list[Event] = []
                if i == now - 1:
                    # The refresh: the server sends the weights to the key holder, who decrypts
                    # them (and encrypts them afresh for the next iteration).
                    back = [server.send(c) for c in W]
                    bytes_down += sum(len(b) for b in back)
                    ct_bytes += sum(len(b) for b in back)
                    w = training.decrypt_weights(owner, back)
                    refreshes += 1
                    reference = plaintext.train(X, y, iterations=done,
                                                step_size=params.step_size, l2=float(model.l2))
                    error = float(np.max(np.abs(w - reference)))
                    diverged = diverged or not np.all(np.isfinite(reference))
                    metrics = evaluate(linear_model(w, d), data)
                    events += metric_events(done, metrics)
                    events.append(Metric(step=done, name="plaintext_test_accuracy", value=evaluate(
                        linear_model(reference, d), data)["test_accuracy"]))
                costs = _he_costs(owner, server, bytes_up, bytes_down, ct_bytes)
                costs["depth_used"] = training.DEPTH_PER_ITERATION * (i + 1)
                if i == now - 1:
                    costs.update(max_abs_error=error, refreshes=refreshes)
                yield from events
                yield from _cost_events(done, costs)
                yield Progress(step=done, total=params.iterations,
                               message=f"iteration {done}/{params.iterations} on encrypted data"
                               + (" (the key holder refreshed the weights)" if i == now - 1
                                  else ""))
    finally:
        owner.close()
        server.close()
    final = dict(metrics)
    final["plaintext_test_accuracy"] = evaluate(linear_model(twin, d), data)["test_accuracy"]
    wall = time.perf_counter() - t_start
    overhead = {
        "seconds": wall,
        "keygen_seconds": owner.keygen_seconds,
        "plaintext_seconds": plaintext_seconds,
        "context_bytes": float(len(public)),
        **_he_costs(owner, server, bytes_up, bytes_down, ct_bytes),
        "seconds_per_iteration": (owner.encrypt_seconds + server.compute_seconds
                                  + owner.decrypt_seconds + owner.serialize_seconds
                                  + server.serialize_seconds) / max(1, done),
        "refreshes": float(refreshes),
        "depth_used": float(training.DEPTH_PER_ITERATION * per_refresh),
        "expansion_vs_float64": data_bytes / (8 * data.n_train * (d + 1)),
    }
    hot = overhead["seconds_per_iteration"] * max(1, done)
    if plaintext_seconds > 0:
        overhead["time_vs_plaintext"] = hot / plaintext_seconds
    warnings = _weak_warning(params)
    if diverged or not np.all(np.isfinite(w)) or np.max(np.abs(w)) > 2 ** (
            s.coeff_mod_bit_sizes[0] - s.scale_bits - 2):
        warnings.append(
            "The training diverged (the cubic that replaces the sigmoid turns back beyond "
            "scores of about +-5.6, and the weights left the range the parameters hold): lower "
            "the step size or the iterations."
        )
    section = _section(
        params, depth_used=training.DEPTH_PER_ITERATION * per_refresh,
        depth_per_iteration=MODE_DEPTH["training"], iterations_per_refresh=per_refresh,
        refreshes=refreshes, ciphertext_bytes=ct_bytes, context_bytes=len(public),
        data_ciphertext_bytes=data_bytes, sigmoid=plaintext.SIGMOID.describe(),
        packing="column-wise: one feature of up to N/2 rows per ciphertext",
        encryption="symmetric (the data owner holds the secret key), seeded ciphertexts",
    )
    return EngineResult(
        model=linear_model(w, d), final=final, overhead=overhead,
        fidelity={"max_abs_error": error} if np.isfinite(error) else {},
        sections={"he": section}, warnings=warnings,
        extra={"weights_twin": [float(v) for v in twin]},
    )


def _he_costs(owner: Any, server: Any, up: int, down: int, ct_bytes: int) -> dict[str, float]:
    """The costs every HE mode reports: the owner's and the server's times, the bytes moved."""
    return {
        "encrypt_seconds": owner.encrypt_seconds,
        "compute_seconds": server.compute_seconds,
        "decrypt_seconds": owner.decrypt_seconds,
        "serialize_seconds": owner.serialize_seconds + server.serialize_seconds,
        "bytes_up": float(up),
        "bytes_down": float(down),
        "bytes_sent": float(up + down),
        "ciphertext_bytes": float(ct_bytes),
    }


# -- aggregation ----------------------------------------------------------------------------------


def _run_aggregation(
    data: PreparedData, model: ModelParams, params: HEParams, *, seed: int, cancel: CancelToken,
) -> Generator[Event, None, EngineResult]:
    from ppml_lab.engines.federated.engine import run_federated
    from ppml_lab.engines.federated.params import FederatedParams
    from ppml_lab.engines.he.aggregation import HEAggregation

    s = params.settings
    fed = FederatedParams(clients=params.clients, rounds=params.rounds,
                          local_epochs=params.local_epochs)
    yield Progress(step=0, total=params.rounds, message="making the keys")
    transport = HEAggregation(s, allow_weak=params.allow_weak)
    yield from _cost_events(0, {"keygen_seconds": transport.keygen_seconds})
    try:
        result = yield from run_federated(data, model, fed, seed=seed, cancel=cancel,
                                          transport=transport)
    finally:
        transport.close()
    result.overhead["keygen_seconds"] = transport.keygen_seconds
    result.overhead["plaintext_seconds"] = transport.plaintext_seconds
    values = max(1, transport.values_encrypted)
    result.overhead["expansion_vs_float64"] = transport.ciphertext_bytes / (8 * values)
    result.fidelity["max_abs_error"] = transport.max_abs_error
    if params.clients == 1:
        result.warnings.append("With one client the decrypted sum IS that client's update: the "
                               "key holder sees it.")
    result.warnings.extend(_weak_warning(params))
    result.sections["he"] = _section(
        params, depth_used=0, ciphertext_bytes=transport.ciphertext_bytes,
        context_bytes=transport.context_bytes,
        ciphertexts_per_upload=transport.ciphertexts_per_upload,
        packing="two numbers per complex slot", clients=params.clients, rounds=params.rounds,
        encryption="public key (clients cannot decrypt)",
        key_holder="a party the clients trust, not the server: decrypts each round's sum and "
        "sends the new model to the clients",
    )
    return result
