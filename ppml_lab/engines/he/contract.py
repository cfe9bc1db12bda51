"""What the HE engine declares: plan (with an estimate), form rules, labels, guarantee."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ppml_lab.engines.base import EngineResult
from ppml_lab.engines.contract import FormHints, Guarantee, Label, RunPlan
from ppml_lab.engines.he.params import HEParams
from ppml_lab.engines.he.security import AUTO_PRESET, MODE_DEPTH, PRESETS, CKKSSettings

LABELS: Mapping[str, Label] = {
    # Short texts: the cost table's first column is narrow (cut beyond about 17 characters).
    # Once per run, whatever the data size: the like-for-like cost shows it separately.
    "keygen_seconds": Label("key generation", "s", one_off=True),
    "encrypt_seconds": Label("encryption", "s"),
    "compute_seconds": Label("server computing", "s"),
    "decrypt_seconds": Label("decryption", "s"),
    "serialize_seconds": Label("(de)serialisation", "s"),
    "plaintext_seconds": Label("plaintext twin", "s"),
    "time_vs_plaintext": Label("x plaintext time", "x"),
    "seconds_per_iteration": Label("per iteration", "s"),
    "context_bytes": Label("public context", "B"),
    "ciphertext_bytes": Label("ciphertexts sent", "B"),
    "bytes_per_record": Label("bytes per record", "B"),
    "expansion_vs_float64": Label("size vs float64", "x"),
    "records_per_second": Label("records per s", "/s"),
    "max_abs_error": Label("error vs plaintext", plot="other",
                           plot_text="largest error vs plaintext twin"),
    "depth_used": Label("depth used"),
    "refreshes": Label("weight refreshes"),
    "plaintext_test_accuracy": Label("plaintext twin (test)"),
    "clients_selected": Label("clients selected", plot="other"),
    "clients_dropped": Label("clients dropped out", plot="other"),
    "seconds_per_round": Label("time per round", "s"),
}

#: Measured on the 2-core development machine (tests/benchmarks/bench_he.py): encryption of one
#: ciphertext at N = 8192 (seconds), one training iteration per feature column, key generation.
_ENCRYPT_SECONDS = 0.0015
_ITERATION_SECONDS_PER_COLUMN = 0.03
_KEYGEN_SECONDS = {"training": 1.0, "scoring": 0.05, "aggregation": 0.05}


def settings_or_none(values: Mapping[str, Any]) -> CKKSSettings | None:
    """The settings the (raw) form values describe, or None if they cannot be resolved."""
    try:
        return CKKSSettings.resolve(
            mode=str(values.get("mode", "scoring")), preset=str(values.get("preset", "auto")),
            poly_modulus_degree=values.get("poly_modulus_degree"),
            coeff_mod_bit_sizes=values.get("coeff_mod_bit_sizes"),
            scale_bits=values.get("scale_bits"),
        )
    except (ValueError, TypeError, KeyError):
        return None


def estimate_seconds(params: HEParams, rows: int, features: int) -> float:
    """A rough duration on this machine (key generation plus the encrypted work)."""
    s = params.settings
    size = s.poly_modulus_degree / 8192 * len(s.coeff_mod_bit_sizes) / 3
    if params.mode == "training":
        blocks = -(-rows // s.slots)
        per_iteration = _ITERATION_SECONDS_PER_COLUMN * (features + 1) * blocks * size * 2
        return _KEYGEN_SECONDS["training"] * size + params.iterations * per_iteration
    if params.mode == "scoring":
        return _KEYGEN_SECONDS["scoring"] + _ENCRYPT_SECONDS * size * features * max(
            1, -(-rows // (2 * s.slots)))
    return _KEYGEN_SECONDS["aggregation"] + params.rounds * params.clients * 0.01 * size


def plan(model: Any, params: HEParams, data: Any = None) -> RunPlan:
    """Scoring batches, training iterations or federated rounds; an estimated duration."""
    rows, features = getattr(data, "n_train", None), getattr(data, "n_features", None)
    estimate = ""
    if isinstance(rows, int) and isinstance(features, int):
        seconds = estimate_seconds(params, rows, features)
        estimate = f"about {seconds:.0f} s" if seconds >= 2 else "a second or two"
    if params.mode == "aggregation":
        return RunPlan(
            steps=int(params.rounds), step_name="round",
            reference=dataclasses.replace(model, epochs=params.rounds * params.local_epochs),
            parties=int(params.clients), party_name="clients", cost_estimate=estimate,
        )
    if params.mode == "training":
        return RunPlan(steps=int(params.iterations), step_name="iteration", reference=model,
                       cost_estimate=estimate)
    y_test = getattr(data, "y_test", None)  # known once the data is prepared
    steps = len(batches_of(len(y_test), params.settings.slots)) if y_test is not None else 1
    return RunPlan(steps=steps, step_name="scoring batch", reference=model,
                   cost_estimate=estimate)


def batches_of(n_rows: int, slots: int) -> list[tuple[int, int]]:
    """Row ranges of the scoring batches: as few as possible, of equal size, <= 2 x slots each."""
    count = max(1, -(-n_rows // (2 * slots)))
    edges = [round(i * n_rows / count) for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


def form_rules(values: Mapping[str, Any]) -> FormHints:
    mode = values.get("mode", "scoring")
    disabled: dict[str, str] = {}
    if mode != "training":
        disabled["iterations"] = disabled["step_size"] = "only the training mode iterates"
    if mode != "aggregation":
        for name in ("clients", "rounds", "local_epochs"):
            disabled[name] = "only the aggregation mode has clients and rounds"
    notes: list[str] = []
    settings = settings_or_none(values)
    unset: dict[str, str] = {}
    if settings is not None:
        base = PRESETS[settings.preset]
        unset = {
            "poly_modulus_degree": f"preset: {base.poly_modulus_degree}",
            "coeff_mod_bit_sizes": "preset: " + ", ".join(map(str, base.coeff_mod_bit_sizes)),
            "scale_bits": f"preset: {base.scale_bits}",
        }
        name = settings.label if values.get("preset", "auto") != "auto" else (
            f"auto = {AUTO_PRESET.get(str(mode), settings.preset)}"
            + (" (edited)" if settings.edited else ""))
        notes.append(f"Encryption ({name}): {settings.describe()}.")
        problems = settings.problems(str(mode), allow_weak=bool(values.get("allow_weak")))
        notes.extend(p[0].upper() + p[1:] + "." for p in problems)
        if not settings.security_bits and values.get("allow_weak"):
            notes.append("NOT PRIVATE: below 128-bit security the encryption may be breakable; "
                         "the run is allowed for teaching and marked NOT PRIVATE.")
        if mode == "training" and settings.depth_budget >= MODE_DEPTH["training"]:
            per = settings.depth_budget // MODE_DEPTH["training"]
            notes.append(
                f"Training uses depth 4 per iteration: the key holder decrypts and re-encrypts "
                f"the weights every {'iteration' if per == 1 else f'{per} iterations'}."
            )
    if mode == "scoring":
        notes.append("The server's model is trained in plaintext on the training rows (model "
                     "settings); the test records are encrypted and only their owner sees the "
                     "scores.")
    if mode == "aggregation":
        notes.append("A key holder trusted by the clients (not the server) decrypts only the sum "
                     "of each round's updates.")
    return FormHints(disabled=disabled, unset_text=unset, notes=notes)


def model_rules(pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]) -> FormHints:
    mode = pattern_values.get("mode", "scoring")
    disabled: dict[str, str] = {}
    if mode == "aggregation":
        disabled["epochs"] = ("aggregation runs Rounds x Local epochs, and the plaintext "
                              "reference trains as many epochs")
        return FormHints(disabled=disabled, notes=[
            "Aggregation: each client trains this model locally with the batch size and learning "
            "rate here; only the sum of the updates is decrypted."])
    disabled["hidden"] = ("encrypted scoring applies a linear model" if mode == "scoring"
                          else "the encrypted training trains a logistic model")
    if mode == "scoring":
        notes = ["Scoring: the server's model is this logistic model, trained in plaintext"]
        if model_values.get("kind") == "mlp":
            notes.append("choose the logistic model: an MLP's activations cannot be applied to "
                         "ciphertexts by this lab")
    else:
        notes = ["Encrypted training is full-batch gradient descent on a logistic model "
                 "(Iterations, Step size); the model section sets the plaintext reference"]
        if model_values.get("kind") == "mlp":
            notes.append("the MLP choice applies to the plaintext reference only")
    return FormHints(disabled=disabled, notes=[". ".join(notes) + "."])


_PROTECTS = {
    "scoring": "the test records and their scores: the server computes the scores on ciphertexts "
    "it cannot read, and only the data owner (the key holder) decrypts them",
    "training": "the training rows, their labels and the model being trained: the server "
    "computes every gradient step on ciphertexts it cannot read, and only the key holder (the "
    "data owner) decrypts the weights",
    "aggregation": "each client's model update: the server only adds ciphertexts, and the key "
    "holder decrypts only each round's sum",
}


def guarantee(params: HEParams, result: EngineResult | None, *, not_protected: str) -> Guarantee:
    """Encryption against the server, or no protection at all below 128-bit security."""
    s = params.settings
    section = dict(result.sections.get("he", {})) if result is not None else {}
    weak = not s.security_bits
    in_run = [
        f"In this run: mode <b>{params.mode}</b>; CKKS parameters '{s.label}': "
        f"{s.describe(security=False)}.",
        f"Security: {s.security_text()}.",
    ]
    if section.get("depth_used") is not None:
        in_run.append(f"Multiplicative depth used {section['depth_used']} of "
                      f"{section.get('depth_budget', s.depth_budget)}.")
    if params.mode == "training" and section.get("refreshes") is not None:
        in_run.append(f"The key holder decrypted and re-encrypted the weights "
                      f"{section['refreshes']} times (every {section.get('iterations_per_refresh')}"
                      " iteration(s)); the server never received a decrypted value.")
    not_protected_items = [
        not_protected,
        "the result from the key holder, who decrypts it (scores, weights, or each round's sum)",
        "sizes and timing: how many records, features and ciphertexts, and when they travel",
        "what the decrypted model or scores say about the data once released: they can leak "
        "like any model's (no differential privacy)",
    ]
    if params.mode == "scoring":
        not_protected_items.append("the model: in scoring it is the server's own, in plaintext, "
                                   "and not hidden")
    if params.mode == "aggregation":
        not_protected_items.append(
            "a round's sum when only one client's update arrives: it is that client's update "
            "(seen by the key holder)")
    assumptions = [
        "the key holder is trusted and keeps the secret key (in the lab it never leaves the key "
        "holder's object: the server and the clients get only the public context)",
        "CKKS (Microsoft SEAL) is IND-CPA secure under the ring learning-with-errors assumption, "
        "at the security level of the parameters (HomomorphicEncryption.org standard table)",
        "CKKS is approximate and not secure against a server that sees decryptions of its "
        "ciphertexts (Li and Micciancio, 2021): decrypted results are never sent back to the "
        "server",
        "the server follows the protocol (honest but curious)",
    ]
    if params.mode == "aggregation":
        assumptions.append(
            "the server colludes neither with the key holder nor with a client (clients receive "
            "the new model, from which a decrypted sum can be worked out)")
    diagnostics = [
        "the plaintext twin's results (final.plaintext_test_accuracy, fidelity.max_abs_error, "
        "overhead.plaintext_seconds), computed on the same data in the clear to measure the "
        "encryption's error and cost",
    ]
    if params.mode != "scoring":
        diagnostics.append("training loss and accuracy (final.train_*), computed on the "
                           "training rows in the clear")
    return Guarantee(
        protects=_PROTECTS[params.mode],
        adversary="the server (and the network)",
        not_protected=tuple(not_protected_items),
        assumptions=tuple(assumptions),
        unit="party",
        no_protection="below 128-bit security" if weak else "",
        no_protection_reason=(
            f"NOT PRIVATE: {s.security_text()}, so the encryption may be breakable. Choose a "
            "preset (all give at least 128 bits)." if weak else ""
        ),
        covers="the data while the server computes on it; the decrypted result (scores, model "
        "or sum) and what is computed from it are not protected",
        diagnostics=tuple(diagnostics),
        in_this_run=tuple(in_run),
    )
