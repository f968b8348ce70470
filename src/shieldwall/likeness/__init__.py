"""Likeness protection: people who enrol their face with recorded consent (issue 13)."""
