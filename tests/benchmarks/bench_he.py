"""Homomorphic encryption (CKKS via TenSEAL): scoring, training and aggregation speed and sizes.

Run: ``.venv/bin/python tests/benchmarks/bench_he.py [--tutorial-records 200]``. Every figure
comes from one run on this machine and is printed with its ratio:

* **Encrypted scoring of the Adult test split** (about 6,000 rows x 98 features; the server's
  logistic model trained in plaintext), N = 8192, the "fast scoring" preset and the
  "scoring, depth 1" preset (TenSEAL's tutorial parameters): records per second *end to end*
  (the owner's encryption, serialisation both ways, the server's computation, the owner's
  decryption), the homomorphic computation alone, ciphertext bytes per record and the expansion
  over float64, the largest error of the decrypted logits; key generation timed apart. Then the
  one-record-per-ciphertext scoring of TenSEAL's tutorial (``ckks_vector(record).dot(w) + b``,
  N = 8192, primes 60/40/40/60, Galois keys) on the first ``--tutorial-records`` records, and
  the ratio. Targets: >= 3,000 records/s end to end, ambitious >= 10,000.
* **Encrypted training**, TenSEAL's tutorial setting (780 rows x 9 features, synthetic standard
  normal features): seconds per epoch (one full-batch iteration with the key holder's refresh,
  everything included but key generation), for the presets "training, depth 4" and "training,
  depth 8"; the tutorial's own loop (one record per ciphertext, encrypted weights) timed on
  ``--tutorial-rows`` rows and scaled to 780, for the ratio (its published figure: 160 s per
  epoch). Targets: <= 10 s per epoch, ambitious <= 1 s.
* **HE aggregation overhead**: the same federated run (Adult, 10 clients, 5 rounds) with the
  plain transport and with the HE transport: seconds per round and bytes per round, ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import adult_data  # noqa: E402

from ppml_lab.engines.he import plaintext, training  # noqa: E402
from ppml_lab.engines.he.ckks import KeyHolder, Server  # noqa: E402
from ppml_lab.engines.he.scoring import batches, score_batch  # noqa: E402
from ppml_lab.engines.he.security import CKKSSettings  # noqa: E402


def trained_logistic(data, epochs: int = 3):  # noqa: ANN001, ANN201
    from ppml_lab.models import ModelParams, make_model, sgd_epoch

    rng = np.random.default_rng(0)
    model = ModelParams(epochs=epochs)
    net = make_model(model, n_features=data.n_features, n_classes=data.n_classes, rng=rng)
    for _ in range(epochs):
        sgd_epoch(net, data.X_train, data.y_train, batch_size=64, learning_rate=0.1, l2=0.0,
                  rng=rng)
    return net


def bench_scoring(data, net, preset: str) -> dict[str, float]:  # noqa: ANN001
    s = CKKSSettings.resolve(mode="scoring", preset=preset)
    W, b = net.params
    X = data.X_test
    t0 = time.perf_counter()
    owner = KeyHolder(s)
    server = Server(owner.public_context())
    keygen = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores, ct_bytes = [], 0
    for rows in batches(len(X), owner.slots):
        cols = [owner.encrypt(X[rows, j], complex_packing=True) for j in range(X.shape[1])]
        out, _ = score_batch(server, cols, W, b, first_prime_bits=s.coeff_mod_bit_sizes[0],
                             scale_bits=s.scale_bits)
        scores.append(owner.decrypt(out[0], rows.stop - rows.start, complex_packing=True))
        ct_bytes += sum(map(len, cols)) + sum(map(len, out))
    total = time.perf_counter() - t0
    error = float(np.max(np.abs(np.concatenate(scores) - (X @ W + b)[:, 0])))
    n = len(X)
    return {
        "records": n, "keygen": keygen, "end_to_end": n / total, "seconds": total,
        "compute_only": n / server.compute_seconds, "encrypt": owner.encrypt_seconds,
        "serialize": owner.serialize_seconds + server.serialize_seconds,
        "decrypt": owner.decrypt_seconds, "bytes_per_record": ct_bytes / n,
        "expansion": ct_bytes / (8 * n * X.shape[1]), "max_error": error,
    }


def bench_tutorial_scoring(data, net, records: int) -> float:  # noqa: ANN001
    """TenSEAL tutorial style: one encrypted record per ciphertext, a dot product with w."""
    import tenseal as ts

    ctx = ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[60, 40, 40, 60])
    ctx.global_scale = 2**40
    ctx.generate_galois_keys()
    W, b = net.params
    w = W[:, 0].tolist()
    X = data.X_test[:records]
    t0 = time.perf_counter()
    for x in X:
        enc = ts.ckks_vector(ctx, x.tolist())
        out = enc.dot(w) + float(b[0])
        out.decrypt()
    return records / (time.perf_counter() - t0)


def tutorial_data(n: int = 780, d: int = 9) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(float)
    return X, y


def bench_training(preset: str, epochs: int = 4) -> dict[str, float]:
    X, y = tutorial_data()
    n, d = X.shape
    s = CKKSSettings.resolve(mode="training", preset=preset)
    t0 = time.perf_counter()
    owner = KeyHolder(s, relin_keys=True, rotations=True)
    public = owner.public_context()
    server = Server(public)
    keygen = time.perf_counter() - t0
    t0 = time.perf_counter()
    columns, labels = training.encrypt_data(owner, X, y)
    trainer = training.TrainingServer(server, columns, labels, [n], step_size=1.0, l2=0.0, n=n)
    upload = time.perf_counter() - t0
    w = np.zeros(d + 1)
    done = 0
    t0 = time.perf_counter()
    while done < epochs:
        W = [server.receive(c) for c in training.encrypt_weights(owner, w)]
        for _ in range(min(trainer.iterations_per_refresh(W), epochs - done)):
            W = trainer.iterate(W)
            done += 1
        w = training.decrypt_weights(owner, [server.send(c) for c in W])
    per_epoch = (time.perf_counter() - t0) / epochs
    twin = plaintext.train(X, y, iterations=epochs, step_size=1.0)
    return {"keygen": keygen, "context_bytes": len(public), "upload": upload,
            "per_epoch": per_epoch, "max_error": float(np.max(np.abs(w - twin)))}


def bench_tutorial_training(rows: int) -> float:
    """TenSEAL tutorial 1's encrypted-training loop (one record per ciphertext), seconds/row."""
    import tenseal as ts

    X, y = tutorial_data()
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[40, 21, 21, 21, 21, 21, 21, 40])
    ctx.global_scale = 2**21
    ctx.generate_galois_keys()
    enc_x = [ts.ckks_vector(ctx, x.tolist()) for x in X[:rows]]
    enc_y = [ts.ckks_vector(ctx, [float(v)]) for v in y[:rows]]
    weight = ts.ckks_vector(ctx, [0.0] * X.shape[1])
    bias = ts.ckks_vector(ctx, [0.0])
    t0 = time.perf_counter()
    dw, db = 0, 0
    for ex, ey in zip(enc_x, enc_y):
        out = ex.dot(weight) + bias
        out = out.polyval([0.5, 0.197, 0, -0.004])
        diff = out - ey
        dw = ex * diff + dw
        db = diff + db
    return (time.perf_counter() - t0) / rows


def bench_aggregation() -> dict[str, float]:
    from ppml_lab.engines.base import CancelToken
    from ppml_lab.engines.federated.engine import run_federated
    from ppml_lab.engines.federated.params import FederatedParams
    from ppml_lab.engines.he.aggregation import HEAggregation
    from ppml_lab.experiments.runner import drive
    from ppml_lab.models import ModelParams

    data = adult_data()
    fed = FederatedParams(clients=10, rounds=5)
    model = ModelParams()
    out: dict[str, float] = {}
    plain = drive(run_federated(data, model, fed, seed=0, cancel=CancelToken()))
    transport = HEAggregation(CKKSSettings.resolve(mode="aggregation", preset="auto"))
    he = drive(run_federated(data, model, fed, seed=0, cancel=CancelToken(), transport=transport))
    out["plain_round"] = plain.overhead["seconds_per_round"]
    out["he_round"] = he.overhead["seconds_per_round"]
    out["plain_bytes"] = plain.overhead["bytes_sent"] / fed.rounds
    out["he_bytes"] = he.overhead["bytes_sent"] / fed.rounds
    out["keygen"] = transport.keygen_seconds
    out["he_work"] = sum(he.overhead.get(k, 0.0) for k in (
        "encrypt_seconds", "compute_seconds", "decrypt_seconds", "serialize_seconds")) / fed.rounds
    out["error"] = transport.max_abs_error
    out["same_model"] = float(np.max(np.abs(plain.model.get_flat() - he.model.get_flat())))
    transport.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tutorial-records", type=int, default=200)
    parser.add_argument("--tutorial-rows", type=int, default=40)
    args = parser.parse_args()

    data = adult_data()
    net = trained_logistic(data)
    print(f"Encrypted scoring, Adult test split: {len(data.y_test):,} rows x {data.n_features} "
          "features, N = 8192")
    for preset in ("fast scoring", "scoring, depth 1"):
        r = bench_scoring(data, net, preset)
        print(f"  {preset:17s}: {r['end_to_end']:9,.0f} records/s end to end ({r['seconds']:.3f} s:"
              f" encrypt {r['encrypt']:.3f}, (de)serialise {r['serialize']:.3f}, decrypt "
              f"{r['decrypt']:.4f}); compute alone {r['compute_only']:,.0f} records/s; "
              f"{r['bytes_per_record']:,.0f} B/record ({r['expansion']:.2f}x float64); largest "
              f"error {r['max_error']:.1e}; key generation {r['keygen']:.3f} s (apart)")
        if preset == "fast scoring":
            fast = r["end_to_end"]
    tutorial = bench_tutorial_scoring(data, net, args.tutorial_records)
    print(f"  one record per ciphertext (TenSEAL tutorial, {args.tutorial_records} records): "
          f"{tutorial:,.1f} records/s -> packed is {fast / tutorial:,.0f}x faster")

    X, y = tutorial_data()
    print(f"\nEncrypted training, {X.shape[0]} rows x {X.shape[1]} features (TenSEAL tutorial "
          "setting), full batch, step 1")
    for preset in ("training, depth 4", "training, depth 8"):
        r = bench_training(preset)
        print(f"  {preset}: {r['per_epoch']:.3f} s per epoch (with refreshes); upload "
              f"{r['upload']:.2f} s once; key generation {r['keygen']:.2f} s and a public context "
              f"of {r['context_bytes'] / 1e6:.1f} MB (apart); largest weight error vs twin "
              f"{r['max_error']:.1e}")
        if preset == "training, depth 4":
            ours = r["per_epoch"]
    per_row = bench_tutorial_training(args.tutorial_rows)
    print(f"  one record per ciphertext (TenSEAL tutorial loop, {args.tutorial_rows} rows timed): "
          f"{per_row * X.shape[0]:.1f} s per epoch -> packed is {per_row * X.shape[0] / ours:,.0f}x "
          "faster (tutorial's published figure: 160 s)")

    a = bench_aggregation()
    print("\nHE aggregation, Adult, 10 clients, 5 rounds (FedAvg, logistic)")
    print(f"  per round: plain {a['plain_round']:.3f} s, HE {a['he_round']:.3f} s "
          f"({a['he_round'] / a['plain_round']:.2f}x; of which HE work {a['he_work']:.3f} s); "
          f"bytes plain {a['plain_bytes'] / 1e3:,.0f} kB, HE {a['he_bytes'] / 1e3:,.0f} kB "
          f"({a['he_bytes'] / a['plain_bytes']:.1f}x, public contexts included); key generation "
          f"{a['keygen']:.3f} s; largest error of a decrypted sum {a['error']:.1e}; "
          f"final model vs plain {a['same_model']:.1e}")


if __name__ == "__main__":
    main()
