"""Tests of bot/app."""
