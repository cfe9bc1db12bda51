"""What the federated engine declares: plan, form rules, labels and guarantee."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ppml_lab.engines.base import EngineResult
from ppml_lab.engines.contract import FormHints, Guarantee, Label, RunPlan
from ppml_lab.engines.federated.params import FederatedParams

LABELS: Mapping[str, Label] = {
    "seconds_per_round": Label("time per round", "s"),
    "clients_selected": Label("clients selected", plot="other"),
    "clients_dropped": Label("clients dropped out", plot="other"),
    "local_test_accuracy_mean": Label("clients' own test rows (mean)"),
    "secagg_seconds": Label("masking time", "s"),
    "secagg_overhead_bytes": Label(
        "masking overhead", "B", plot="bytes", plot_text="secure-aggregation overhead",
        extra_over="bytes_sent",
    ),
    "secagg_key_bytes": Label("key exchange", "B"),
    "secagg_share_bytes": Label("encrypted shares", "B"),
    "secagg_recovery_bytes": Label("unmasking shares", "B"),
    "secagg_seeds_revealed": Label("mask secrets rebuilt"),
    # Flower backend
    "startup_seconds": Label("Flower start-up", "s"),
    "x_simulation": Label("vs simulation", "x"),  # a round on Flower against one in-process
    "simulation_seconds_per_round": Label("simulation's time per round", "s"),
}

#: Seconds per round of a Flower run on this computer, for the plan's estimate: each round a
#: SuperNode polls the SuperLink (every 3 s) and starts a ClientApp process (about 2 s).
_FLOWER_ROUND_SECONDS = 6.0
_FLOWER_START_SECONDS = 10.0

_SEEDED_NOTE = (
    "Deterministic noise is on: the noise can be replayed from the seed, so this run will NOT "
    "be private. Use it for teaching and debugging only."
)

SEEDED_REASON = (
    "NOT PRIVATE: this run drew its noise and its client sampling from the experiment seed, "
    "which is published with the results, so anyone can replay them and remove the noise. The "
    "sentences below describe what the same settings give with secret noise, not this run."
)


def plan(model: Any, params: FederatedParams) -> RunPlan:
    """Rounds; the plaintext reference trains ``rounds x local_epochs`` centralised epochs.

    That is as many passes over every row as the federation makes with all clients taking
    part, so the comparison is like for like whatever ``[model] epochs`` says.
    """
    estimate = ""
    if params.backend == "flower":
        rounds = int(params.rounds) * (4 if params.secure_aggregation else 1)
        seconds = _FLOWER_START_SECONDS + _FLOWER_ROUND_SECONDS * rounds
        estimate = f"about {seconds / 60:.0f} min on Flower" if seconds >= 120 else f"about {seconds:.0f} s on Flower"
    return RunPlan(
        steps=int(params.rounds),
        step_name="round",
        reference=dataclasses.replace(model, epochs=params.rounds * params.local_epochs),
        target_epsilon=params.epsilon,
        parties=None if params.partition == "column" else int(params.clients),
        party_name="clients",
        cost_estimate=estimate,
    )


def form_rules(values: Mapping[str, Any]) -> FormHints:
    """Which federated settings apply under the current choices."""
    disabled: dict[str, str] = {}
    partition = values.get("partition", "iid")
    if partition != "dirichlet":
        disabled["alpha"] = "only the 'dirichlet' data split uses alpha"
    if partition != "column":
        disabled["partition_column"] = "only the 'column' data split uses a client column"
    else:
        disabled["clients"] = "the 'column' split makes one client per value of the client column"
    if not values.get("secure_aggregation"):
        disabled["secagg_threshold"] = "only with secure aggregation"
    if values.get("strategy", "fedavg") != "fedprox":
        disabled["mu"] = "only the FedProx strategy has a proximal term mu"
    if values.get("epsilon") is None:
        why = "only with client-level DP (set Client-level epsilon first)"
        disabled["delta"] = why
        disabled["update_clip"] = why
        disabled["deterministic_noise"] = why
    notes: list[str] = []
    if values.get("epsilon") is not None and values.get("deterministic_noise"):
        notes.append(_SEEDED_NOTE)
    _flower_rules(values, disabled, notes)
    if partition == "column" and not values.get("partition_column"):
        notes.append("Choose the client column: one client per value of that column.")
    return FormHints(
        disabled=disabled,
        unset_text={
            "epsilon": "off: no client-level DP",
            "delta": "auto: 1/(10 × clients)",
            "partition_column": "choose a column…",
            "secagg_threshold": "auto: a majority of each round's clients",
            "superlink": "empty: start one here",
        },
        notes=notes,
    )


def _flower_rules(values: Mapping[str, Any], disabled: dict[str, str], notes: list[str]) -> None:
    """What the backend choice changes in the form (Flower is not imported)."""
    if values.get("backend", "simulation") != "flower":
        disabled["superlink"] = "only when running on Flower (Run on: Flower network)"
        return
    from ppml_lab.engines.federated.flower_setup import flower_problem

    disabled["dropout_rate"] = (
        "on Flower, dropouts are real (a SuperNode that does not answer), not simulated"
    )
    problem = flower_problem()
    if problem:
        notes.append(problem)
    elif values.get("superlink"):
        notes.append(
            f"Runs on the Flower SuperLink at {values['superlink']}: its SuperNodes hold the "
            "clients' data (one data file each) and the lab sends the model there. The "
            "connection is not encrypted (Flower's insecure mode)."
        )
    else:
        notes.append(
            "Runs on Flower: the lab starts a SuperLink and one SuperNode per client on this "
            "computer (separate processes talking over 127.0.0.1) and stops them at the end. "
            "Same results as the simulation, real traffic; several seconds per round."
        )


def model_rules(pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]) -> FormHints:
    """Federated training takes batch size and learning rate from the model, not epochs."""
    return FormHints(
        disabled={
            "epochs": "federated training runs Rounds × Local epochs (pattern settings), and the "
            "plaintext reference trains as many epochs, so the comparison is like for like",
        },
        notes=[
            "Federated training runs Rounds × Local epochs (pattern settings); the plaintext "
            "reference trains the same number of epochs. Batch size and learning rate are the "
            "clients'."
        ],
    )


def _in_this_run(params: FederatedParams, n_clients: Any) -> tuple[str, ...]:
    who = f"{n_clients} clients" if isinstance(n_clients, int) else "the clients"
    lines = [f"In this run: the raw rows stayed with {who}."]
    if params.secure_aggregation:
        lines.append("Secure aggregation <b>on</b>: the server saw only each round's sum of updates.")
    else:
        lines.append("Secure aggregation <b>off</b>: the server saw every client's update.")
    if params.epsilon is None:
        lines.append("Client-level DP <b>off</b>: the final model has no ε guarantee.")
    if params.backend == "flower":
        lines.append(
            "Ran on Flower: every client was a separate SuperNode process sending its updates to "
            "a SuperLink over the network, unencrypted (Flower's insecure mode; use TLS between "
            "machines)."
        )
    return tuple(lines)


def guarantee(
    params: FederatedParams,
    result: EngineResult | None,
    *,
    protects: str,
    not_protected: str,
) -> Guarantee:
    """Raw rows stay with their clients; with client-level DP an epsilon per client."""
    privacy = dict(result.privacy) if result is not None else {}
    extra = dict(result.extra) if result is not None else {}
    partition = extra.get("partition") if isinstance(extra.get("partition"), Mapping) else {}
    n_clients = partition.get("n_clients", privacy.get("clients", params.clients))
    dp = params.epsilon is not None
    diagnostics = [
        "training loss and accuracy (history train_*, final.train_*), computed on all clients' "
        "rows together, which a real federation's server could not do",
        "per-client row and class counts (extra.partition)"
        + (", exactly what client-level DP protects" if dp else ""),
    ]
    if params.local_test:
        diagnostics.append("per-client test accuracy (extra.local_test_accuracy)")
    if dp:
        covers = (
            "the global model after every round, and what is computed from it on held-out data "
            "(test accuracy and loss): any one client's whole contribution is bounded by epsilon"
        )
    elif params.secure_aggregation:
        covers = (
            "the clients' raw rows (they never leave their owner) and each client's update (the "
            "server sees only the round's sum); there is no epsilon: the global model is as "
            "revealing as a centrally trained one"
        )
    else:
        covers = (
            "the clients' raw rows, which never leave their owner; the server sees every "
            "client's update and there is no epsilon"
        )
    assumptions = ["the server follows the protocol (honest but curious)"]
    if params.secure_aggregation:
        assumptions.append(
            "fewer than the threshold of a round's clients collude with the server"
        )
    seeded = dp and privacy.get("noise_source", "seeded" if params.deterministic_noise else "os") == "seeded"
    if dp:
        assumptions.append("the server adds the noise honestly, from secret randomness")
    eps, delta = privacy.get("epsilon"), privacy.get("delta")
    return Guarantee(
        protects=protects,
        adversary="the server and anyone who sees the global model",
        not_protected=(not_protected,),
        assumptions=tuple(assumptions),
        epsilon=float(eps) if dp and isinstance(eps, (int, float)) else None,
        delta=float(delta) if dp and isinstance(delta, (int, float)) else None,
        unit="client",
        n_protected=int(n_clients) if isinstance(n_clients, int) and n_clients >= 1 else None,
        headline="per client: all of one client's rows together",
        no_protection="deterministic noise" if seeded else "",
        no_protection_reason=SEEDED_REASON if seeded else "",
        covers=covers,
        diagnostics=tuple(diagnostics),
        in_this_run=_in_this_run(params, n_clients),
    )
