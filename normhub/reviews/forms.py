"""The review forms: a member's answer, the decision, and the review periods."""

from __future__ import annotations

from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length

from normhub.forms import Form, Subform, answer_field, replace_rows
from normhub.ids import parse_id
from normhub.reviews.models import DECISION_NOTE_MAX, EVIDENCE_MAX
from normhub.reviews.services import AssumptionVerdict

WORKED_CHOICES = [
    SelectChoice("held", "It worked"),
    SelectChoice("failed", "It did not work"),
    SelectChoice("unclear", "Unclear"),
]
HELD_CHOICES = [
    SelectChoice("held", "Held"),
    SelectChoice("failed", "Failed"),
    SelectChoice("unclear", "Unclear"),
]
OUTCOME_CHOICES = [
    SelectChoice("kept", "Kept: it works, review it again later"),
    SelectChoice("revise", "Revise: the author drafts a new version"),
    SelectChoice("retire", "Retire: it no longer applies"),
]
EVIDENCE_TOO_LONG = f"Keep the evidence to one sentence (at most {EVIDENCE_MAX} characters)."
EVIDENCE_HINT = f"One sentence of evidence: what happened (at most {EVIDENCE_MAX} characters)."


def _evidence_field(label: str) -> StringField:
    return StringField(
        label,
        validators=[Length(max=EVIDENCE_MAX, message=EVIDENCE_TOO_LONG)],
        render_kw={"maxlength": EVIDENCE_MAX},
    )


class AssumptionVerdictForm(Subform):
    assumption_id = HiddenField()
    outcome = answer_field("Did it hold?", HELD_CHOICES)
    evidence = _evidence_field("Evidence")


def _verdict_row(assumption, verdict) -> dict:
    """An assumption's row, holding the member's ``verdict`` on it if there is one."""
    return {
        "assumption_id": str(assumption.id),
        "outcome": verdict.outcome if verdict else None,
        "evidence": verdict.evidence if verdict else "",
    }


class ReviewAnswerForm(Form):
    worked = answer_field(
        "Did the norm work?",
        WORKED_CHOICES,
        required="Say whether the norm worked, did not, or is unclear.",
    )
    evidence = _evidence_field("Evidence")
    assumptions = FieldList(FormField(AssumptionVerdictForm), max_entries=100)

    def load(self, version, answer=None) -> None:
        """One row per assumption under review, prefilled from the member's own answer."""
        given = {}
        if answer is not None:
            self.worked.data, self.evidence.data = answer.worked, answer.evidence
            given = {a.assumption_id: a for a in answer.assumption_answers}
        replace_rows(
            self.assumptions,
            [
                _verdict_row(assumption, given.get(assumption.id))
                for assumption in version.assumptions
            ],
        )

    def verdicts(self) -> list[AssumptionVerdict]:
        result = []
        for entry in self.assumptions.entries:
            row = entry.form
            assumption_id = parse_id(row.assumption_id.data or "")
            if assumption_id is None or not (row.outcome.data or row.evidence.data):
                continue
            result.append(
                AssumptionVerdict(assumption_id, row.outcome.data or "", row.evidence.data or "")
            )
        return result


class DecideForm(Form):
    outcome = answer_field("Outcome", OUTCOME_CHOICES, required="Choose an outcome.")
    note = TextAreaField(
        "Why (optional, shown with the outcome)",
        validators=[
            Length(max=DECISION_NOTE_MAX, message=f"At most {DECISION_NOTE_MAX} characters.")
        ],
        render_kw={"rows": 2, "maxlength": DECISION_NOTE_MAX},
    )


class PeriodForm(Form):
    period_days = StringField("Review every (days)", render_kw={"inputmode": "numeric"})

    def days(self, *, blank_allowed: bool) -> int | None:
        """The number typed; None when blank and ``blank_allowed``; else ValueError."""
        text = (self.period_days.data or "").strip()
        if not text and blank_allowed:
            return None
        if not (text.isascii() and text.isdigit()) or len(text) > 5:
            raise ValueError(text)
        return int(text)
