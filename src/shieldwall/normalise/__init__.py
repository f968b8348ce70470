"""Undoing the edits that re-shared copies go through: borders, captions, screenshots, tilts."""
