"""Delivery: weekly slots, the APScheduler schedule, the outbox worker, posting and notices."""
