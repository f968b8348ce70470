"""The screening cascade of likeness protection: bank matches, then the detectors."""
