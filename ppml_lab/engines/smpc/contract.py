"""What the SMPC engine declares: plan (with a duration estimate), form rules, labels, guarantee."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ppml_lab.engines.base import EngineResult
from ppml_lab.engines.contract import FormHints, Guarantee, Label, RunPlan
from ppml_lab.engines.smpc.params import SMPCParams, parse_hosts

LABELS: Mapping[str, Label] = {
    "rounds": Label("communication rounds"),
    "plaintext_seconds": Label("plaintext time", "s"),
    # Once per run, whatever the training length: the like-for-like cost shows them separately.
    "connect_seconds": Label("start-up + connection", "s", one_off=True),
    "setup_seconds": Label("secure set-up", "s", one_off=True),
    "secure_seconds": Label("secure computation", "s"),
    "time_vs_plaintext": Label("secure / plaintext time", "x"),
}

#: Seconds per iteration of secure training per million (rows x features) at 3 parties, and the
#: fixed cost per iteration, measured on the 2-core development machine (bench_smpc.py).
_SECONDS_PER_MEGA_CELL = 2.0
_SECONDS_PER_ITERATION = 0.03
_START_SECONDS = 1.0


def threshold(parties: int) -> int:
    """MPyC's threshold: any ``t`` parties together learn nothing (honest majority)."""
    return (int(parties) - 1) // 2


def estimate_seconds(params: SMPCParams, rows: int, features: int) -> float:
    """A rough duration of a secure run on this machine (start-up plus iterations)."""
    scale = max(1.0, (params.parties - 1) / 2)  # traffic and work grow with the parties
    cells = rows * (features + 1) / 1e6
    per_iteration = _SECONDS_PER_ITERATION + _SECONDS_PER_MEGA_CELL * cells * scale
    if params.protocol == "aggregation":
        per_iteration = _SECONDS_PER_ITERATION * 2 + 1e-7 * rows * features
    if params.protocol == "scoring":
        return _START_SECONDS + per_iteration
    return _START_SECONDS + params.iterations * per_iteration


def plan(model: Any, params: SMPCParams, data: Any = None) -> RunPlan:
    """Iterations (training), rounds (aggregation) or one scoring pass; an estimated duration."""
    if params.protocol == "scoring":
        steps, name = 1, "scoring pass"
    else:
        steps, name = params.iterations, ("round" if params.protocol == "aggregation" else "iteration")
    estimate = ""
    rows, features = getattr(data, "n_train", None), getattr(data, "n_features", None)
    if isinstance(rows, int) and isinstance(features, int):
        seconds = estimate_seconds(params, rows, features)
        estimate = f"about {seconds:.0f} s" if seconds >= 2 else "a second or two"
    return RunPlan(steps=steps, step_name=name, reference=model, parties=params.parties,
                   party_name="parties", cost_estimate=estimate)


def form_rules(values: Mapping[str, Any]) -> FormHints:
    disabled: dict[str, str] = {}
    notes: list[str] = []
    parties = values.get("parties", 3)
    protocol = values.get("protocol", "training")
    if isinstance(parties, int):
        t = threshold(parties)
        if t == 0:
            notes.append(
                "With 2 parties MPyC's threshold is 0: nothing is secret from either party. The "
                "run is allowed for comparison, and is marked NOT PRIVATE."
            )
        else:
            notes.append(f"{parties} parties: any {t} of them together learn nothing but the output.")
    if protocol == "aggregation":
        disabled["step_size"] = "aggregation trains locally with the model section's learning rate"
        disabled["fixed_point_bits"] = "aggregation sums the updates in MPyC's secure integers"
        if values.get("split") == "columns":
            notes.append("Aggregation needs the rows split: with columns no party can train alone.")
    if protocol == "scoring":
        notes.append(
            "Scoring: party 1 holds a model trained in plaintext (Iterations, Step size) on the "
            "training rows; the other parties hold the test records and learn only their scores."
        )
    if parse_hosts(values.get("hosts")):
        notes.append(
            "On several machines the parties' traffic crosses the network unencrypted unless MPyC "
            "runs with --ssl and certificates, which the lab does not set up."
        )
    return FormHints(
        disabled=disabled,
        unset_text={"hosts": "all parties on this computer"},
        notes=notes,
    )


def model_rules(pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]) -> FormHints:
    notes = ["Secure training is full-batch gradient descent on a logistic model (Iterations, "
             "Step size); the model section sets the plaintext reference"]
    if pattern_values.get("protocol") == "aggregation":
        notes = ["Aggregation: each party trains the logistic model locally with the batch size "
                 "and learning rate here"]
    disabled = {}
    if model_values.get("kind") == "mlp":
        notes.append("the MLP choice applies to the plaintext reference only")
    disabled["hidden"] = "the secure protocols train a logistic model"
    return FormHints(disabled=disabled, notes=[". ".join(notes) + "."])


_PROTECTS = {
    "training": "each party's rows (or columns) and labels: the others see only random-looking "
    "secret shares, and only the final model is revealed",
    "aggregation": "each party's rows, and each party's model update: only the sum of the "
    "updates is revealed, but the model after every round is revealed to all parties",
    "scoring": "the model from the record owners and the records from the model owner: each "
    "record owner learns only its records' scores",
}


def guarantee(params: SMPCParams, result: EngineResult | None, *, not_protected: str) -> Guarantee:
    """Honest-majority secrecy of the inputs, or no protection at all with two parties."""
    m, t = params.parties, threshold(params.parties)
    extra = dict(result.extra) if result is not None else {}
    rows = extra.get("rows_per_party")
    in_run = [
        f"In this run: {m} parties, threshold t = {t}"
        + (": no protection." if t == 0 else f": any {t} of them together learn nothing beyond "
           "the output."),
        f"Protocol <b>{params.protocol}</b>, data split by <b>{params.split}</b>.",
    ]
    not_protected_items = [
        not_protected,
        "the number of rows and columns each party holds (sizes are public)",
        "what the revealed output says about the data: the model can be attacked like any "
        "model (no differential privacy)",
    ]
    if params.protocol == "aggregation":
        not_protected_items.append("the model after every round, revealed to all parties")
    if parse_hosts(params.hosts):
        not_protected_items.append(
            "the traffic between machines, unless MPyC runs with --ssl (not set up by the lab)"
        )
    diagnostics = [
        "training loss and accuracy (final.train_*), computed on all parties' rows together, "
        "which no party could compute",
    ]
    if rows:
        diagnostics.append("rows per party (extra.rows_per_party)")
    return Guarantee(
        protects=_PROTECTS[params.protocol],
        adversary=f"any {t} of the {m} parties, pooling what they see" if t else "nobody",
        not_protected=tuple(not_protected_items),
        assumptions=(
            "an honest majority: at most t parties collude, and all follow the protocol "
            "(MPyC's passive security)",
            "the parties' connections are private (loopback here)",
        ),
        unit="party",
        headline="",
        no_protection="two parties" if t == 0 else "",
        no_protection_reason=(
            "NOT PRIVATE: with 2 parties MPyC's threshold is 0, so each party can reconstruct "
            "every secret on its own: nothing is hidden from either. Use 3 or more parties."
            if t == 0 else ""
        ),
        covers="the parties' inputs during the computation; the revealed output (the model or "
        "the scores) and what is computed from it are not protected",
        diagnostics=tuple(diagnostics),
        in_this_run=tuple(in_run),
    )
