"""Outgoing webhooks: signed event deliveries to platforms' and integrations' endpoints."""
