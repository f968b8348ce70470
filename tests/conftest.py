"""The whole suite's rules: a run fails on a skip whose reason is not allowed.

See tests/support/skip_policy.py for why, and for the reasons a skip may have.
"""

pytest_plugins = ["tests.support.skip_policy"]
