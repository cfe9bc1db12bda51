"""The differential-privacy pattern's compliance view (orientation, not legal advice)."""

from __future__ import annotations

from ppml_lab.engines.compliance import ComplianceView

_QUESTIONS = (
    "Which epsilon and delta, why those values, and how is the total budget over every release "
    "from the same data tracked?",
    "Is the released model still personal data? A strong guarantee is an argument for that "
    "assessment, not an automatic answer: anonymity is judged in context.",
    "Was the protection tested (for example with a membership-inference audit) and the result "
    "documented?",
)

#: DP-SGD and objective perturbation: noise in the training, the trainer sees the data.
CENTRAL = ComplianceView(
    supports=(
        "Privacy by design: the protection is built into the training, and its strength "
        "(epsilon) is stated for every person in the data.",
        "Data minimisation: the released model is limited in what it can reveal about any one "
        "person, so what leaves the training is close to knowledge about the group.",
        "Purpose limitation: whoever receives the model cannot reliably use it to learn about "
        "a particular person, a use the original purpose did not cover.",
    ),
    left_to_organisation=(
        "The training data itself: whoever runs the training sees every record in the clear, "
        "so access control and the security of that environment remain the organisation's.",
        "Choosing epsilon and delta, justifying them, and counting every run on the same data: "
        "each release spends more of the privacy budget.",
        "Preparation computed from the data (averages for scaling, category lists) is not "
        "covered unless public ranges are used instead.",
        "Facts about groups that the model is meant to learn are not protected by a per-person "
        "guarantee.",
    ),
    regulator_questions=(
        *_QUESTIONS,
        "Who sees the raw data during training, and under which safeguards?",
    ),
)

#: Local DP: each record is randomised before it leaves its owner.
LOCAL = ComplianceView(
    supports=(
        "Data minimisation: the collector receives only randomised records, never the true "
        "values.",
        "Security of processing: a breach of the collector's store reveals only randomised "
        "records.",
        "Privacy by design: the protection is applied on the owner's side, before any data is "
        "sent, with its strength (epsilon) stated per person.",
    ),
    left_to_organisation=(
        "Accuracy: randomising every record costs much more accuracy than noise added during "
        "training; check that the result is still fit for its purpose.",
        "The randomisation must really run on the owner's side; preparation computed from the "
        "raw records (scaling, category lists) breaks the promise unless public ranges are used.",
        "Choosing epsilon and counting every collection from the same people.",
    ),
    regulator_questions=_QUESTIONS,
)


def view(mechanism: str) -> ComplianceView:
    """The view of a mechanism: local DP protects before collection, the others in training."""
    return LOCAL if mechanism == "local" else CENTRAL
