"""Forms for proposing and editing norms.

Length and format rules live in ``norms.services`` (the API uses them too);
the forms only collect input, so a refusal always comes back as the
service's message next to the field it is about.
"""

from __future__ import annotations

from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, StopValidation

from normhub.communities.reread import REREAD_MESSAGE, REREAD_MONTHS_MAX
from normhub.forms import Form, Subform, replace_rows
from normhub.ids import parse_id
from normhub.norms.models import STATUS_LABELS
from normhub.norms.services import (
    SIGNIFICANCE_REQUIRED,
    AssumptionInput,
    NormDraft,
    parse_significance,
    parse_tags,
)
from normhub.text import control_character_problem


class NormRefsField(TextAreaField):
    """The norms this one builds on: every box of the field's name, one line each.

    The form shows one box per norm (titles offered from a datalist) and a blank
    one; each box may also hold several names, comma separated. The boxes reach the
    view joined with line breaks (a text area's data, so its check lets the breaks
    through); each box on its own must be one line of plain text.
    """

    sent: tuple[str, ...] = ()  # the filled boxes, as sent

    def process_formdata(self, valuelist):
        if valuelist:
            self.sent = tuple(value.strip() for value in valuelist if value.strip())
            self.data = "\n".join(self.sent)

    def pre_validate(self, form) -> None:
        # Each box is one line of plain text, as a text field's would be.
        for box in self.sent:
            problem = control_character_problem(box, self.label.text, multiline=False)
            if problem is not None:
                raise StopValidation(problem)

    @property
    def boxes(self) -> list[str]:
        """What each box shows: a norm per box, and a blank one to add another."""
        filled = [line for line in (self.data or "").splitlines() if line.strip()]
        return [*filled, ""] if len(filled) >= 1 else ["", ""]


BLANK_ROWS = 3
# Generous, but bounded: a form can't make the server build thousands of rows.
MAX_ROWS = 60


class AssumptionRowForm(Subform):
    """One assumption row (a ``Subform``: the outer form carries the CSRF token)."""

    key = HiddenField()
    position = IntegerField(
        "Position", validators=[Optional(), NumberRange(min=1, max=999)], render_kw={"min": 1}
    )
    statement = StringField("Statement")
    explanation = TextAreaField("Explanation (optional)", render_kw={"rows": 2})

    @property
    def is_blank(self) -> bool:
        return not (self.statement.data or "").strip() and not (self.explanation.data or "").strip()


class NormForm(Form):
    title = StringField("Title")
    summary = TextAreaField("Summary", render_kw={"rows": 3})
    body = TextAreaField("Essay (Markdown)", render_kw={"rows": 18})
    tags = StringField("Tags (comma separated)")
    prerequisites = NormRefsField("Builds on (optional)")
    assumptions = FieldList(FormField(AssumptionRowForm), max_entries=MAX_ROWS)
    add_rows = SubmitField("Add more assumption rows")
    save = SubmitField("Save")

    def add_blank_rows(self, count: int = BLANK_ROWS) -> None:
        next_position = len(self.assumptions.entries) + 1
        for offset in range(count):
            if len(self.assumptions.entries) >= MAX_ROWS:
                break
            self.assumptions.append_entry({"position": next_position + offset})

    def load_assumptions(self, assumptions) -> None:
        """Rows for existing assumptions (keeping their keys), then blank rows."""
        replace_rows(
            self.assumptions,
            [
                {
                    "key": str(item.key),
                    "position": item.position,
                    "statement": item.statement,
                    "explanation": item.explanation,
                }
                for item in assumptions
            ],
        )
        self.add_blank_rows()

    def to_draft(self) -> NormDraft:
        rows = [
            (row.position.data, index, row)
            for index, row in enumerate(entry.form for entry in self.assumptions.entries)
            if not row.is_blank
        ]
        # Rows without a position keep their place after the numbered ones.
        rows.sort(key=lambda item: (item[0] if item[0] is not None else 10_000, item[1]))
        assumptions = [
            AssumptionInput(
                statement=row.statement.data or "",
                explanation=row.explanation.data or "",
                key=parse_id(row.key.data),
            )
            for _, _, row in rows
        ]
        return NormDraft(
            title=self.title.data or "",
            summary=self.summary.data or "",
            body=self.body.data or "",
            assumptions=assumptions,
            tags=parse_tags(self.tags.data or ""),
        )


class EditNormForm(NormForm):
    change_summary = StringField("What changed, in a sentence")
    significance = RadioField(
        "Kind of change",
        choices=[
            SelectChoice("material", "Material: the meaning changed"),
            SelectChoice("minor", "Minor: wording only"),
        ],
        default="material",
        validators=[InputRequired(message=SIGNIFICANCE_REQUIRED)],
        invalid_choice_message=SIGNIFICANCE_REQUIRED,
    )

    @property
    def is_material(self) -> bool:
        return parse_significance(self.significance.data)


TRANSITION_LABELS = {
    "open": "Open for discussion",
    "draft": "Move back to draft",
    "in_force": "Put in force",
    "retired": "Retire",
    "withdrawn": "Withdraw",
}


def transition_label(status: str) -> str:
    return TRANSITION_LABELS.get(status, STATUS_LABELS.get(status, status))


REREAD_CHOICES = [
    SelectChoice("community", "Follow the community"),
    SelectChoice("months", "Its own period"),
    SelectChoice("none", "No re-read for this norm"),
]


class RereadForm(Form):
    """How often this norm asks to be read again (see ``normhub.norms.reread``)."""

    reread = RadioField(
        "Ask members to read it again",
        choices=REREAD_CHOICES,
        default="community",
        invalid_choice_message="Choose how often members are asked to read it again.",
    )
    months = IntegerField(
        "Every (months)",
        validators=[Optional(), NumberRange(1, REREAD_MONTHS_MAX, message=REREAD_MESSAGE)],
    )

    def validate_months(self, field) -> None:
        if self.reread.data == "months" and field.data is None:
            raise StopValidation(REREAD_MESSAGE)
