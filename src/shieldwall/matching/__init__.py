"""Matching: in-memory indexes (PDQ exact within threshold, exact digests) and the match service."""
