"""Metrics adapters: Prometheus."""
