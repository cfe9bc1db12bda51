"""The federated-learning pattern's compliance view (orientation, not legal advice)."""

from __future__ import annotations

from ppml_lab.engines.compliance import ComplianceView
from ppml_lab.engines.federated.params import FederatedParams

BASE = ComplianceView(
    supports=(
        "Data minimisation: the raw records never leave their owners; only model updates "
        "travel.",
        "Privacy by design: the training is organised so that no central copy of the data is "
        "ever made.",
    ),
    left_to_organisation=(
        "Model updates can still reveal information about the records behind them, and the "
        "final model is as revealing as one trained on pooled data (unless differential privacy "
        "is added).",
        "Agreements between the data owners and the coordinator: who is controller or joint "
        "controller, what the shared model may be used for, and who receives it.",
        "Security of each owner's own systems and of the connections, including checking who "
        "takes part (the lab's protocol does not sign messages).",
    ),
    regulator_questions=(
        "Who are the controllers (is this joint controllership?) and what do the agreements "
        "between the owners say?",
        "Can the model updates or the final model be linked back to individuals, and how was "
        "that assessed?",
        "How are participants authenticated, and what stops one of them from sending "
        "manipulated updates?",
        "Where does the final model go, and for which purpose?",
    ),
)

_SECURE_SUM = (
    "Security of processing: the coordinator sees only the sum of the updates, never one "
    "owner's update; the masks are agreed with standard cryptography."
)
_NO_SECURE_SUM = (
    "Without secure aggregation the coordinator sees every owner's update: treat the updates "
    "as personal data and protect them accordingly."
)
_CLIENT_DP = (
    "Purpose limitation: with client-level differential privacy the shared model reveals "
    "little about any one owner's data, whoever later receives it."
)


def view(params: FederatedParams) -> ComplianceView:
    """The view for these settings: secure aggregation and client-level DP each add to it."""
    supports: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    if params.secure_aggregation:
        supports += (_SECURE_SUM,)
        questions += ("How many owners must take part in each round for the sum to stay "
                      "hidden, and what happens when too few do?",)
    else:
        left += (_NO_SECURE_SUM,)
    if params.epsilon is not None:
        supports += (_CLIENT_DP,)
        questions += ("Which client-level epsilon, and why is it small enough?",)
    return BASE.extended(supports=supports, left_to_organisation=left,
                         regulator_questions=questions)
