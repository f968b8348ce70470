"""Hashing content: decode safely, then PDQ of the picture and of its views, MD5, SHA-256.

A use case over media (decoding), normalise (the views that undo edits or cover regions)
and signals (the hash types): kept apart from all three so that none imports another
upwards.
"""
