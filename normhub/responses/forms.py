"""The reader's response form: the norm as a whole, then each assumption."""

from __future__ import annotations

from wtforms import FieldList, FormField, HiddenField, SelectChoice, TextAreaField

from normhub.forms import Form, Subform, answer_field, replace_rows
from normhub.ids import parse_id
from normhub.responses.services import AssumptionAnswer

UNDERSTOOD_CHOICES = [
    SelectChoice("yes", "Yes"),
    SelectChoice("partly", "Partly"),
    SelectChoice("no", "No"),
]
ENDORSEMENT_CHOICES = [
    SelectChoice("endorse", "Endorse"),
    SelectChoice("undecided", "Undecided"),
    SelectChoice("reject", "Reject"),
]
AGREEMENT_CHOICES = [
    SelectChoice("agree", "Agree"),
    SelectChoice("unsure", "Unsure"),
    SelectChoice("disagree", "Disagree"),
]


class AssumptionAnswerForm(Subform):
    assumption_id = HiddenField()
    understood = answer_field("Understood?", UNDERSTOOD_CHOICES)
    agreement = answer_field("Do you agree?", AGREEMENT_CHOICES)
    reason = TextAreaField("Why? (optional)", render_kw={"rows": 2})

    @property
    def is_blank(self) -> bool:
        return not self.understood.data and not self.agreement.data and not self.reason.data


def _answer_row(assumption, answer) -> dict:
    """An assumption's row, holding ``answer`` if there is one."""
    return {
        "assumption_id": str(assumption.id),
        "understood": answer.understood if answer else None,
        "agreement": answer.agreement if answer else None,
        "reason": answer.reason if answer else "",
    }


class ResponseForm(Form):
    # The version the reader saw: answers to an older one must not be filed
    # under a newer one.
    version_number = HiddenField()
    understood = answer_field("Did you understand the norm?", UNDERSTOOD_CHOICES)
    endorsement = answer_field("Do you endorse it?", ENDORSEMENT_CHOICES)
    reason = TextAreaField("Why? (optional)", render_kw={"rows": 3})
    assumptions = FieldList(FormField(AssumptionAnswerForm), max_entries=100)

    def load(self, version, previous=None) -> None:
        """One row per assumption of ``version``, prefilled from ``previous`` if given.

        ``previous`` may answer an earlier version of the same material text:
        its answers go to the same assumptions (by their cross-version key).
        """
        by_key = {}
        if previous is not None:
            self.understood.data = previous.understood
            self.endorsement.data = previous.endorsement
            self.reason.data = previous.reason
            by_key = {a.assumption.key: a for a in previous.assumption_responses}
        self.version_number.data = str(version.number)
        replace_rows(
            self.assumptions,
            [
                _answer_row(assumption, by_key.get(assumption.key))
                for assumption in version.assumptions
            ],
        )

    def carry_over(self, version, earlier: list) -> None:
        """Rows for ``version`` holding the answers given to an older text, matched by
        assumption (``services.earlier_answers``). The answers on the norm as a whole are
        not carried: the text changed in meaning, and they are asked again."""
        self.load(version)
        for entry, before in zip(self.assumptions.entries, earlier, strict=True):
            if before.answer is not None:
                row = entry.form
                row.understood.data = before.answer.understood
                row.agreement.data = before.answer.agreement
                row.reason.data = before.answer.reason

    def matches(self, version) -> bool:
        """Whether the posted rows are exactly the assumptions of ``version``."""
        posted = [entry.form.assumption_id.data for entry in self.assumptions.entries]
        return self.version_number.data == str(version.number) and posted == [
            str(a.id) for a in version.assumptions
        ]

    def answers(self) -> dict[int, AssumptionAnswer]:
        result = {}
        for entry in self.assumptions.entries:
            row = entry.form
            assumption_id = parse_id(row.assumption_id.data)
            if row.is_blank or assumption_id is None:
                continue
            result[assumption_id] = AssumptionAnswer(
                understood=row.understood.data or "",
                agreement=row.agreement.data or "",
                reason=row.reason.data or "",
            )
        return result
