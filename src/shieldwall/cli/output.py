"""How commands print: one JSON object per line with --json, tables for people otherwise."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


class Output:
    """Prints results to stdout and problems to stderr, and counts the problems."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.problems = 0
        # Piped output gets a wide console so values are never cut to fit 80 columns.
        width = None if sys.stdout.isatty() else 240
        self._console = Console(highlight=False, width=width)
        self._errors = Console(stderr=True, highlight=False, soft_wrap=True)

    def record(self, record: dict[str, Any]) -> None:
        """One JSON line (only with --json)."""
        if self.as_json:
            sys.stdout.write(json.dumps(record, ensure_ascii=False, separators=(", ", ": ")))
            sys.stdout.write("\n")
            sys.stdout.flush()

    def problem(self, path: str, message: str) -> None:
        """A per-item failure: a JSON line with --json, one stderr line either way."""
        self.problems += 1
        self.record({"path": path, "error": message})
        self._errors.print(f"error: {path}: {message}", markup=False)

    def note(self, message: str) -> None:
        """A line for people (stderr with --json, so stdout stays machine-readable)."""
        (self._errors if self.as_json else self._console).print(message, markup=False)

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A table for people (nothing with --json)."""
        if self.as_json:
            return
        table = Table(show_edge=False, header_style="bold")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*("" if value is None else str(value) for value in row))
        self._console.print(table)
