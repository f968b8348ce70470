"""Web: the FastAPI service (native API, HMA-compatible API, health, metrics)."""
