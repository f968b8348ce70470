"""Banks: named sets of entries (signals + provenance + state) with per-bank match policy."""
