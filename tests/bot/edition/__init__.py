"""Tests of bot/edition."""
