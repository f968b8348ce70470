"""Review: what a reviewer needs to decide on reported and matched content.

So far, the quarantine store of the content under review (`quarantine.py`).
"""
