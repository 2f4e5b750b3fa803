"""The web archive's HTML and feeds (jinja2 templates, autoescaped) and its aiohttp routes."""
