"""Completion webhooks: signed status events, delivered at least once from the daemon."""
