"""Benchmarks that print figures (run each file directly)."""
