"""Adapters to the outside world: email, and later chat servers and webhooks."""
