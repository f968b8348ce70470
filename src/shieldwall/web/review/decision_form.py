"""Reading a decision form of the item page into the review service's DecisionInput.

The page checks the service's own rules (review.models.decision_problems) and says which
field is missing rather than failing whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import FormData

from shieldwall.errors import InvalidInputError
from shieldwall.review.models import (
    NEEDS_GROUND,
    DecisionInput,
    DecisionKind,
    RemovalAction,
    decision_problems,
)
from shieldwall.web.review.auth import form_text


@dataclass
class DecisionForm:
    """A decision form as posted, and the fields it lacks (codes for the template)."""

    kind: str
    action: str = ""
    ground: str = ""
    facts: str = ""
    reason: str = ""
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, form: FormData, grounds: set[str]) -> DecisionForm:
        """The posted fields, checked."""
        posted = cls(
            kind=form_text(form, "kind"),
            action=form_text(form, "action"),
            ground=form_text(form, "ground"),
            facts=form_text(form, "facts").strip(),
            reason=form_text(form, "reason").strip(),
        )
        posted.problems = posted._check(grounds)
        return posted

    def _check(self, grounds: set[str]) -> dict[str, str]:
        try:
            kind = DecisionKind(self.kind)
        except ValueError:
            return {"kind": "unknown-kind"}
        problems = decision_problems(kind, self.action, self.ground, self.facts, self.reason)
        if kind in NEEDS_GROUND and "ground" not in problems and self.ground not in grounds:
            problems["ground"] = "choose-ground"
        return problems

    def to_input(self) -> DecisionInput:
        """The service's input (InvalidInputError if the form had problems)."""
        if self.problems:
            raise InvalidInputError("the decision form has problems")
        kind = DecisionKind(self.kind)
        return DecisionInput(
            kind,
            RemovalAction(self.action) if kind is DecisionKind.CONFIRM else RemovalAction.NONE,
            self.ground if kind in NEEDS_GROUND else "",
            self.facts,
            self.reason,
        )
