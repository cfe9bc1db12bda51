"""A pattern's "compliance view": which data-protection principles it supports, what it leaves
to the organisation, and what a regulator would still ask.

Each engine declares one (:meth:`ppml_lab.engines.contract.EngineBase.compliance`); the results
document carries it as the top-level ``compliance`` section, the window shows it next to the
results, and the report prints it. It is orientation for a first conversation with a
data-protection officer, never legal advice: :data:`COMPLIANCE_NOTICE` says so wherever it is
shown.

The principles named are those of European data-protection law (GDPR Art. 5 and 25 and 32) in
plain words: data minimisation, purpose limitation, privacy by design (data protection by design
and by default) and security of processing. Qt-free plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["COMPLIANCE_NOTICE", "PRINCIPLES", "ComplianceView"]

#: The principles a view may say a pattern supports (each ``supports`` item starts with one).
PRINCIPLES = (
    "Data minimisation",
    "Purpose limitation",
    "Privacy by design",
    "Security of processing",
)

#: Shown with every compliance view, in the window, the results document and the report.
COMPLIANCE_NOTICE = (
    "Orientation, not legal advice: a technique supports some data-protection principles, but "
    "whether a processing complies depends on all of it (its purpose, legal basis, contracts, "
    "retention, the people's rights), which the organisation and its data-protection officer "
    "must assess."
)


@dataclass(frozen=True, kw_only=True)
class ComplianceView:
    """What a pattern means for data-protection compliance, in plain words.

    Attributes
    ----------
    supports : tuple of str
        The principles the technique supports and how, each "Principle: how." (empty when it
        supports none, e.g. ordinary training or a setting that gives no protection).
    left_to_organisation : tuple of str
        What the technique does not do and the organisation must still do.
    regulator_questions : tuple of str
        What a supervisory authority or an auditor would still ask.
    notice : str
        That this is orientation, not legal advice (:data:`COMPLIANCE_NOTICE`).
    """

    supports: tuple[str, ...] = ()
    left_to_organisation: tuple[str, ...] = ()
    regulator_questions: tuple[str, ...] = ()
    notice: str = COMPLIANCE_NOTICE

    def to_dict(self) -> dict[str, Any]:
        """The results document's ``compliance`` section."""
        return {
            "supports": list(self.supports),
            "left_to_organisation": list(self.left_to_organisation),
            "regulator_questions": list(self.regulator_questions),
            "notice": self.notice,
        }

    def without_protection(self, what: str, reason: str = "") -> ComplianceView:
        """The view for a setting that gives no protection at all (``Guarantee.no_protection``).

        Nothing is supported; the organisation is told why first, and the regulator's first
        question is why such a setting touched personal data.
        """
        why = f"This setting gives no protection ({what})"
        why += f": {reason.removeprefix('NOT PRIVATE: ')}" if reason else "."
        return replace(
            self,
            supports=(),
            left_to_organisation=(why, *self.left_to_organisation),
            regulator_questions=(
                "Why was a setting that protects nothing used on personal data, and was the "
                "result kept apart from real processing?",
                *self.regulator_questions,
            ),
        )

    def extended(
        self,
        *,
        supports: tuple[str, ...] = (),
        left_to_organisation: tuple[str, ...] = (),
        regulator_questions: tuple[str, ...] = (),
    ) -> ComplianceView:
        """The view with more items appended (for what a run's settings add)."""
        return replace(
            self,
            supports=(*self.supports, *supports),
            left_to_organisation=(*self.left_to_organisation, *left_to_organisation),
            regulator_questions=(*self.regulator_questions, *regulator_questions),
        )
