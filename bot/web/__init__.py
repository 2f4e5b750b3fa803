"""The web archive and feed: what each page shows, built from the store (no HTTP, no HTML)."""
