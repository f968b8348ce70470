"""Screening: content -> signals -> matches -> verdict, with an audit record per lookup."""
