"""Source adapters: each fetches one outside source and yields `bot.domain.Sighting` values."""
