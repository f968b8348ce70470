"""The module's counters, in Synapse's Prometheus registry (its `/_synapse/metrics` when
`enable_metrics` is on): what screening decided, how long Shieldwall took, and what the
takedowns did. An operator sees at once how many uploads fail-open let through."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Histogram

SCREENED: Final = Counter(
    "shieldwall_synapse_screened",
    "Files screened by Shieldwall, by where they came from and what became of them",
    ["server_name", "source", "outcome"],
)
"""`source`: upload, remote, preview. `outcome`: block, review, allow, unscreenable,
too_large, unavailable_allowed (fail-open), unavailable_refused (fail-closed)."""

SCREENING_SECONDS: Final = Histogram(
    "shieldwall_synapse_screening_seconds",
    "Time from reading a file to Shieldwall's answer",
    ["server_name"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
)

TAKEDOWNS: Final = Counter(
    "shieldwall_synapse_takedown_actions",
    "What takedowns of confirmed media did",
    ["server_name", "action"],
)
"""`action`: redacted, redaction_failed, quarantined, quarantine_failed."""
