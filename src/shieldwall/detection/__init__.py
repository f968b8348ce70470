"""Detectors that look at content itself, for likeness protection (issue 13): a nudity
score, faces with their templates. Each is optional (its package may be absent); the models
ship inside their packages and are never downloaded."""
