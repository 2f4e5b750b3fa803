"""Ingest: fetch every source, give each sighting its canonical id, merge and store them."""
