"""The plaintext baseline: centralised, non-private minibatch SGD.

Every other pattern is compared against this engine on the same split and the same model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.engines.audit import AUDIT_HELP, audit_keeping, run_audit
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.common import evaluate, metric_events
from ppml_lab.engines.contract import ComplianceView, EngineBase, Guarantee
from ppml_lab.engines.events import Overhead, Progress
from ppml_lab.engines.registry import register
from ppml_lab.models import ModelParams, make_model, sgd_epoch
from ppml_lab.params import param
from ppml_lab.privacy import accounting
from ppml_lab.privacy.attacks import plain_sgd_train_fn


@dataclass(frozen=True, kw_only=True)
class BaselineParams:
    """The ``[model]`` section says how to train; the baseline's only own setting is the audit."""

    audit: bool = param(
        False,
        label="Membership audit",
        help=AUDIT_HELP + " Shows what a model trained without privacy protection leaks.",
        advanced=True,
    )


class BaselineEngine(EngineBase):
    name: ClassVar[str] = "baseline"
    label: ClassVar[str] = "Plaintext baseline"
    description: ClassVar[str] = (
        "Ordinary training with all data in one place and no privacy protection: the reference "
        "every private pattern is compared with."
    )
    protects: ClassVar[str] = "Nothing: the model and whoever trains it see every record."
    does_not_protect: ClassVar[str] = (
        "The records themselves, and membership: a trained model can reveal whether a person "
        "was in the training data."
    )
    Params: ClassVar[type] = BaselineParams
    compliance_view: ClassVar[ComplianceView] = ComplianceView(
        supports=(),
        left_to_organisation=(
            "All of the protection: the model and whoever trains it see every record in the "
            "clear, so access control, encryption of stored data and logging are the "
            "organisation's own measures.",
            "Data minimisation: keep only the columns and rows the purpose needs, and replace "
            "names and identifiers before training.",
            "The trained model can reveal whether a person was in the training data: treat it "
            "as personal data unless shown otherwise.",
        ),
        regulator_questions=(
            "Why is pooling the records in the clear necessary for this purpose, and was a "
            "privacy-preserving alternative considered?",
            "Who can access the pooled data and the trained model, and how is that logged?",
            "Is the trained model treated as personal data, and who may receive it?",
            "How long are the pooled records kept?",
        ),
    )

    def guarantee(
        self, params: BaselineParams, result: EngineResult | None, *, n_train: int | None = None
    ) -> Guarantee:
        diagnostics = (
            ("the membership audit (extra.audit), which attacks the model with the training "
             "rows",) if params.audit else ()
        )
        return Guarantee(
            protects=self.protects,
            adversary="nobody: the model and whoever trains it see every record",
            not_protected=(self.does_not_protect,),
            diagnostics=diagnostics,
        )

    def run(
        self,
        data: PreparedData,
        model: ModelParams,
        params: BaselineParams,
        *,
        seed: int,
        cancel: CancelToken,
    ) -> EngineRun:
        rng = np.random.default_rng(seed)
        net = make_model(model, n_features=data.n_features, n_classes=data.n_classes, rng=rng)
        engine_seconds = 0.0
        metrics: dict[str, float] = {}
        for epoch in range(1, model.epochs + 1):
            cancel.raise_if_cancelled()
            t0 = time.perf_counter()
            sgd_epoch(
                net,
                data.X_train,
                data.y_train,
                batch_size=model.batch_size,
                learning_rate=model.learning_rate,
                l2=model.l2,
                rng=rng,
            )
            metrics = evaluate(net, data)
            engine_seconds += time.perf_counter() - t0
            yield from metric_events(epoch, metrics)
            yield Overhead(step=epoch, kind="seconds", value=engine_seconds, unit="s")
            yield Progress(step=epoch, total=model.epochs, message=f"epoch {epoch}/{model.epochs}")
        result = EngineResult(model=net, final=metrics, overhead={"seconds": engine_seconds})
        if params.audit:
            # A cancel during the audit keeps the trained result (AuditCancelled carries it).
            result.extra["audit"] = yield from audit_keeping(result, run_audit(
                net,
                data,
                delta=accounting.default_delta(data.n_train),
                train_fn=plain_sgd_train_fn(model, n_classes=data.n_classes),
                accountant_epsilon=None,
                seed=seed,
                cancel=cancel,
                step=model.epochs,
            ))
        return result


register(BaselineEngine())
