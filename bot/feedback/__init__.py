"""Feedback: readers' 👍 / 👎 reactions on an edition's item replies, kept as votes per item."""
