"""The homomorphic-encryption pattern's compliance view (orientation, not legal advice)."""

from __future__ import annotations

from ppml_lab.engines.compliance import ComplianceView

VIEW = ComplianceView(
    supports=(
        "Security of processing: the service that computes never sees the records or the "
        "results in the clear; they stay encrypted (at least 128-bit security).",
        "Data minimisation: the service receives only encrypted data; the readable data stays "
        "with the holder of the key.",
        "Privacy by design: handing a computation to an outside service no longer means handing "
        "it readable data.",
    ),
    left_to_organisation=(
        "Key management: whoever holds the secret key can decrypt everything; keeping, "
        "guarding and replacing that key is the organisation's job.",
        "The decrypted results (scores, a model) are ordinary personal data again once "
        "decrypted.",
        "What the service still sees: how much data there is and when it arrives; in scoring, "
        "the model is the service's own and not hidden.",
        "A processing agreement with the service: encrypted personal data is generally still "
        "treated as personal data.",
    ),
    regulator_questions=(
        "Who holds the secret key, and how is it protected and replaced?",
        "Which encryption parameters and security level, and who checked them?",
        "Is the service a processor, and what does the agreement say about encrypted data?",
        "What happens to the decrypted results, and who may see them?",
    ),
)
