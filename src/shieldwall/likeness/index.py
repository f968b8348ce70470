"""The enrolled templates in memory, searched exactly: enrolments are thousands, not
millions, so one matrix product per face is enough."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from shieldwall.detection.models import Template
from shieldwall.likeness.models import TEMPLATE_SIZE


@dataclass(frozen=True)
class LikenessMatch:
    """An enrolment whose template comes near a face: its number and the similarity."""

    number: str
    similarity: float


class TemplateIndex:
    """Templates of active enrolments by enrolment number."""

    def __init__(self) -> None:
        self._numbers: list[str] = []
        self._matrix = np.zeros((0, TEMPLATE_SIZE), np.float32)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._numbers)

    def replace_all(self, enrolled: list[tuple[str, list[Template]]]) -> None:
        """Hold exactly these enrolments' templates."""
        numbers = [number for number, templates in enrolled for _ in templates]
        rows = [t for _, templates in enrolled for t in templates]
        matrix = np.stack(rows) if rows else np.zeros((0, TEMPLATE_SIZE), np.float32)
        with self._lock:
            self._numbers, self._matrix = numbers, matrix

    def add(self, number: str, templates: list[Template]) -> None:
        """Hold an enrolment's templates too."""
        with self._lock:
            self._numbers = [*self._numbers, *[number] * len(templates)]
            self._matrix = np.vstack([self._matrix, *templates])

    def remove(self, number: str) -> None:
        """Forget an enrolment's templates."""
        with self._lock:
            keep = [at for at, held in enumerate(self._numbers) if held != number]
            self._numbers = [self._numbers[at] for at in keep]
            self._matrix = self._matrix[keep]

    def nearest(self, template: Template, threshold: float) -> list[LikenessMatch]:
        """Enrolments with a template at or over `threshold` (cosine) from this one, the
        most similar first, each once."""
        with self._lock:
            numbers, matrix = self._numbers, self._matrix
        if not numbers:
            return []
        similarities = matrix @ np.asarray(template, np.float32)
        best: dict[str, float] = {}
        for at in np.flatnonzero(similarities >= threshold).tolist():
            value = float(similarities[at])
            if value > best.get(numbers[at], -2.0):
                best[numbers[at]] = value
        return [LikenessMatch(n, s) for n, s in sorted(best.items(), key=lambda item: -item[1])]
