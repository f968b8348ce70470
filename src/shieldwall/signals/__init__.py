"""Signals: values computed from content (pdq, md5, sha256), with a registry of stable names."""

from shieldwall.signals.models import (
    DIHEDRAL_VARIANTS,
    ORIGINAL,
    SIGNAL_TYPES,
    Signal,
    SignalKind,
    signal_kind,
)

__all__ = ["DIHEDRAL_VARIANTS", "ORIGINAL", "SIGNAL_TYPES", "Signal", "SignalKind", "signal_kind"]
