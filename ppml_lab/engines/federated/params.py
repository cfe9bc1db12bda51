"""Parameters of the federated-learning pattern."""

from __future__ import annotations

from dataclasses import dataclass

from ppml_lab.params import param


@dataclass(frozen=True, kw_only=True)
class FederatedParams:
    """The ``[pattern]`` keys of ``name = "federated"``."""

    clients: int = param(
        10, label="Clients", minimum=1, maximum=1000,
        help="How many data owners (hospitals, phones, ...) hold a part of the training data.",
    )
    partition: str = param(
        "iid", label="Data split", choices=("iid", "dirichlet", "quantity", "column"),
        choice_labels={
            "iid": "Even, at random (IID)",
            "dirichlet": "Label skew (Dirichlet)",
            "quantity": "Unequal sizes (quantity skew)",
            "column": "One client per value of a column",
        },
        choice_help={
            "iid": "Rows are dealt to the clients evenly and at random: every client looks like "
            "the whole dataset (independent and identically distributed).",
            "dirichlet": "Each client sees mostly some classes; Dirichlet alpha sets how skewed.",
            "quantity": "Clients hold very different numbers of rows.",
            "column": "The values of a column you choose make the clients, e.g. one hospital "
            "per site.",
        },
        help="How rows are spread over clients: iid (evenly, at random), dirichlet (label skew: "
        "each client sees mostly some classes), quantity (very unequal sizes), column (one client "
        "per value of a column, e.g. one hospital per site).",
    )
    alpha: float = param(
        0.5, label="Dirichlet alpha", minimum=0.01, maximum=100.0, log_scale=True,
        help="Label skew for the dirichlet split: 0.1 = each client sees mostly one class, "
        "100 = nearly even.",
    )
    partition_column: str | None = param(
        None, label="Client column",
        help="For the 'column' split: the column whose values define the clients (e.g. site).",
    )
    rounds: int = param(
        30, label="Rounds", minimum=1, maximum=10_000,
        help="Communication rounds: the server sends the model out and averages what comes back.",
    )
    local_epochs: int = param(
        1, label="Local epochs", minimum=1, maximum=100,
        help="Passes each selected client makes over its own rows per round.",
    )
    client_fraction: float = param(
        1.0, label="Share of clients per round", minimum=0.0, min_inclusive=False, maximum=1.0,
        help="Fraction of clients selected each round (with client-level DP each client is "
        "selected independently with this probability, as the accountant assumes).",
    )
    strategy: str = param(
        "fedavg", label="Strategy", choices=("fedavg", "fedprox"),
        choice_labels={
            "fedavg": "Average (FedAvg)",
            "fedprox": "Average, kept close (FedProx)",
        },
        choice_help={
            "fedavg": "The server averages the client models, weighted by their numbers of rows.",
            "fedprox": "Like FedAvg, and each client's training is pulled towards the global "
            "model (FedProx mu sets how strongly): helps when the clients' data differ.",
        },
        help="FedAvg averages client models weighted by size; FedProx also keeps each client "
        "close to the global model (helps when data is skewed).",
    )
    mu: float = param(
        0.01, label="FedProx mu", minimum=0.0, maximum=10.0,
        help="Strength of FedProx's pull towards the global model.", advanced=True,
    )
    secure_aggregation: bool = param(
        False, label="Secure aggregation",
        help="Clients mask their updates with secrets that cancel in the sum, so the server only "
        "ever sees the total, never one client's update.",
    )
    secagg_threshold: int | None = param(
        None, label="Secure-aggregation threshold", minimum=2, maximum=1000, advanced=True,
        help="With secure aggregation: how many of a round's clients must deliver their update "
        "for the server to unmask the sum; a round with fewer is skipped (no update, the run goes "
        "on). Each client's two mask secrets are cut into pieces handed to the other clients, and "
        "the server needs this many pieces to rebuild one: the secret that hides a client that "
        "delivered, or the one that undoes a dropped client's masks, never both. Empty = a "
        "majority of the round's clients. Why a majority: an honest client answers 'delivered' or "
        "'dropped' for each client once, so two groups that must each have more than half of the "
        "clients always share a client, and even a server that tells some clients 'X dropped' and "
        "others 'X delivered' cannot collect enough pieces of both of X's secrets. A lower value "
        "tolerates more dropouts but loses that guarantee.",
    )
    dropout_rate: float = param(
        0.0, label="Dropout rate", minimum=0.0, maximum=0.9,
        help="Probability that a selected client trains but its update never arrives (the round "
        "goes on with the others; under secure aggregation their masks are removed).",
        advanced=True,
    )
    epsilon: float | None = param(
        None, label="Client-level epsilon", minimum=0.0, min_inclusive=False, maximum=100.0,
        log_scale=True,
        help="Set to add client-level differential privacy (DP-FedAvg): each client's update is "
        "clipped and noise is added to the sum, so the model reveals little about any one client.",
    )
    delta: float | None = param(
        None, label="Delta", minimum=0.0, min_inclusive=False, maximum=0.5, log_scale=True,
        help="Client-level delta; empty = 1/(10 x clients). Must be below 1/clients.",
        advanced=True,
    )
    update_clip: float = param(
        1.0, label="Update clip S", minimum=0.0, min_inclusive=False, maximum=1000.0,
        log_scale=True,
        help="With client-level DP, each client's model update is scaled down to this L2 norm.",
    )
    deterministic_noise: bool = param(
        False, label="Deterministic noise (NOT private)",
        help="With client-level DP: draw the noise and the client sampling from the experiment "
        "seed so the run can be replayed exactly, for teaching and debugging only. The seed is "
        "written into the results, so such a run is NOT private and is marked as such. Off: "
        "they come from the operating system's randomness and nobody can replay them.",
        advanced=True,
    )
    local_test: bool = param(
        False, label="Per-client test accuracy",
        help="Hold out 20% of each client's rows and report the global model's accuracy on each.",
        advanced=True,
    )
    backend: str = param(
        "simulation", label="Run on", choices=("simulation", "flower"),
        choice_labels={
            "simulation": "This process (simulation)",
            "flower": "Flower network (SuperLink + SuperNodes)",
        },
        choice_help={
            "simulation": "All clients are simulated inside the lab, one after another: fast "
            "(milliseconds per round), nothing to install.",
            "flower": "Each client is a Flower SuperNode, a separate process talking to a "
            "SuperLink over the network, as in a real deployment; the lab starts them on this "
            "computer, or uses a SuperLink you give. Same results, real traffic; seconds per "
            "round. Needs: pip install 'ppml-lab[flower]'.",
        },
        help="Where the clients run: simulated in this process, or as Flower SuperNodes (real "
        "processes and network traffic, the same experiment and results).",
    )
    superlink: str | None = param(
        None, label="SuperLink address",
        help="With Flower: host:port of a SuperLink already running (e.g. 192.168.1.20:9092) "
        "whose SuperNodes hold the clients' data. Empty: the lab starts a SuperLink and one "
        "SuperNode per client on this computer (127.0.0.1) and stops them afterwards.",
    )

    def __post_init__(self) -> None:
        if self.partition == "column" and not self.partition_column:
            raise ValueError("the 'column' split needs partition_column (the column naming each client)")
