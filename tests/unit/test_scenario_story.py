"""The presenter's sentences come from the results document: the key number, the comparison with
the unprotected model, the parts of the guarantee a scenario shows, the flags, the limits."""

from __future__ import annotations

from ppml_lab.experiments.scenario_story import limits_story, result_story, sentences


def _doc(accuracy: float = 0.9, reference: float = 0.92, **protection: object) -> dict:
    return {
        "status": "completed",
        "final": {"test_accuracy": accuracy},
        "baseline": {"test_accuracy": reference},
        "evaluation": {"test_rows": 100, "majority_class_rate": 0.5,
                       "no_better_than_guessing": False},
        "protection": {"level": "none", "protects": "", "adversary": "", **protection},
        "overhead": {},
    }


def test_the_key_number_and_the_sentence() -> None:
    story = result_story(_doc(), subject="The model", measure="of rows right")
    assert (story.key_number, story.key_caption) == ("90.0%", "of rows right")
    assert story.sentence == ("The model got 90.0% right. The same model trained with no "
                              "protection gets 92.0%, so the protection cost 2.0 points.")
    same = result_story(_doc(0.9, 0.903), subject="It", measure="m")
    assert same.sentence.endswith("gets 90.3%: no measurable difference.")
    better = result_story(_doc(0.95, 0.9), subject="It", measure="m")
    assert "5.0-point gain is chance variation" in better.sentence


def test_the_parts_come_from_the_guarantee_in_the_order_asked() -> None:
    doc = _doc(
        level="strong", epsilon=0.99, protects="the rows: nobody reads them. Really.",
        adversary="the server", in_this_run=["In this run: <b>3</b> owners."],
        in_plain_words=["An attacker is right at most 73% of the time."],
    )
    doc["extra"] = {"audit": {"attacks": {"loss": {"auc": 0.51, "epsilon_lower_bound": 0.0},
                                          "lira": {"auc": 0.53, "epsilon_lower_bound": 0.0}}}}
    doc["fidelity"] = {"max_abs_error": 3.5e-6}
    story = result_story(doc, subject="S", measure="m",
                         show=["audit", "level", "plain_words", "protects", "in_this_run",
                               "fidelity"])
    assert story.details == (
        "Then an attack tried to tell who was in the training data. Shown one person who was and "
        "one who was not, its best attempt picked the right one 53% of the time; blind guessing "
        "gets 50%. It found no measurable leak.",
        "Protection level: strong (privacy budget epsilon = 0.99).",
        "An attacker is right at most 73% of the time.",
        "Protected from the server: the rows.",
        "Nobody reads them.",
        "Really.",
        "3 owners.",
        "The answers computed on locked data differ from those on readable data by at most "
        "0.000004.",
    )
    assert result_story(doc, subject="S", measure="m").details == ()


def test_a_leaking_audit_is_not_called_a_failure() -> None:
    doc = _doc()
    doc["extra"] = {"audit": {"attacks": {"loss": {"auc": 0.62, "epsilon_lower_bound": 1.5}}}}
    (audit,) = result_story(doc, subject="S", measure="m", show=["audit"]).details
    assert "62% of the time" in audit and "no measurable leak" not in audit


def test_flags_come_first() -> None:
    unsafe = _doc(no_protection="two parties",
                  no_protection_reason="NOT PRIVATE: with 2 parties nothing is hidden.")
    assert result_story(unsafe, subject="S", measure="m").flag == (
        "NOT PRIVATE: with 2 parties nothing is hidden.")
    useless = _doc()
    useless["evaluation"]["no_better_than_guessing"] = True
    assert "no better than always guessing" in result_story(useless, subject="S", measure="m").flag
    stopped = _doc()
    stopped["status"] = "cancelled"
    assert result_story(stopped, subject="S", measure="m").flag == "The run was stopped before the end."
    nothing = _doc()
    nothing["final"] = {}
    story = result_story(nothing, subject="S", measure="m")
    assert (story.key_number, story.sentence) == ("—", "S produced no test result.")


def test_limits_are_cut_into_sentences_without_repeats() -> None:
    doc = _doc(not_protected=[
        "The result from the key holder, who decrypts it; what the released model or its "
        "scores reveal to anyone who gets them; sizes and timing. In scoring the model is "
        "not hidden.",
        "the result from the key holder, who decrypts it (scores or weights)",
        "sizes and timing: how many records, and when they travel",
    ])
    assert limits_story(doc) == [
        "The result from the key holder, who decrypts it (scores or weights).",
        "What the released model or its scores reveal to anyone who gets them.",
        "Sizes and timing: how many records, and when they travel.",
        "In scoring the model is not hidden.",
    ]
    long = _doc(not_protected=["The training data from whoever runs the training (they see it; "
                               "really); group-level facts the model is meant to learn; and "
                               "privacy spent by data-dependent preprocessing."])
    assert limits_story(long) == [
        "The training data from whoever runs the training (they see it; really).",
        "Group-level facts the model is meant to learn.",
        "Privacy spent by data-dependent preprocessing.",
    ]


def test_sentences_strip_html_and_capitalise() -> None:
    assert sentences("a <b>bold</b> start. Second one") == ["A bold start.", "Second one."]
