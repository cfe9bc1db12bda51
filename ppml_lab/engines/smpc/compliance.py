"""The secure multi-party computation pattern's compliance view (orientation, not legal
advice).
"""

from __future__ import annotations

from ppml_lab.engines.compliance import ComplianceView

VIEW = ComplianceView(
    supports=(
        "Data minimisation: each party's data is split into random-looking pieces; no party "
        "ever holds another's records, and only the agreed output is revealed.",
        "Purpose limitation: the computation is agreed in advance, and only its result (the "
        "model or the scores) is revealed to the parties.",
        "Security of processing: as long as a majority of the parties is honest, a breach at "
        "one party reveals nothing of the others' data.",
        "Privacy by design: the joint analysis needs no trusted central party that sees "
        "everything.",
    ),
    left_to_organisation=(
        "The revealed result: the trained model can leak about its training records like any "
        "model (there is no differential privacy).",
        "Agreements between the parties: who is controller for what, which result may be "
        "revealed, and what happens if a majority of them colludes.",
        "Running each party separately and securely, with encrypted connections between "
        "machines (the lab runs them on one computer).",
        "The cost: secure computation is far slower and sends far more data than ordinary "
        "training.",
    ),
    regulator_questions=(
        "Which parties could collude, and why is an honest majority realistic here?",
        "Is the revealed result itself personal data, and who receives it?",
        "How are the exchanged pieces and the connections protected, and deleted after the "
        "computation?",
        "Who reviewed the protocol and its implementation?",
    ),
)
