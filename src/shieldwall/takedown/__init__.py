"""Takedown follow-through: the platform directory, notices to other platforms."""
