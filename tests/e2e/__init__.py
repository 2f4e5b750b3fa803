"""Whole-process tests: real digestbot processes against the fakes on 127.0.0.1."""
