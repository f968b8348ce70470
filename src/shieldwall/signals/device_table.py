"""What a device needs to hash an image as `bank add` does: the regions and the pair windows."""

from __future__ import annotations

from shieldwall.signals.pairs import pair_table
from shieldwall.signals.regions import region_table


def device_table(min_side: int, working_long_side: int, min_short_side: int) -> dict[str, object]:
    """The region table (signals/regions.py) with the pair windows' parameters as its
    `pairs` section (signals/pairs.py): served to the /protect page as one JSON document."""
    return {**region_table(min_side, working_long_side, min_short_side), "pairs": pair_table()}
