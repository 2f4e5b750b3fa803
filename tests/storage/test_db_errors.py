"""Database URLs in error messages: never a piece of the userinfo; one line."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from storage.db import DatabaseError, create_engine_for, normalise_url, redact


def test_a_password_holding_an_at_sign_means_what_was_typed() -> None:
    url = make_url(normalise_url("postgresql://digest:RETPW@WORD@127.0.0.1:5432/postgres"))
    assert (url.username, url.password, url.host) == ("digest", "RETPW@WORD", "127.0.0.1")


def test_no_piece_of_the_userinfo_survives_in_a_message() -> None:
    url = "postgresql://digest:RETPW@WORD@127.0.0.1:5432/postgres"
    message = "failed to resolve host 'WORD@127.0.0.1' for user digest (password RETPW)"
    cleaned = redact(message, url)
    for piece in ("RETPW", "WORD", "digest"):
        assert piece not in cleaned
    assert "127.0.0.1" in cleaned


def test_an_unusable_url_is_one_line_without_its_password() -> None:
    with pytest.raises(DatabaseError) as refused:
        create_engine_for("nosuchdb://admin:Sekr1t@db.example/x")
    assert "Sekr1t" not in str(refused.value)
    assert "admin" not in str(refused.value)
    assert "\n" not in str(refused.value)
