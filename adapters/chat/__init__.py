"""Chat adapters: Slack, Discord and the console, each rendering the core's neutral replies."""
