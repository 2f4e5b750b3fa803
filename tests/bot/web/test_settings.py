"""The web archive's settings: on by default, a public URL that must be http(s), sane paging."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


def test_the_archive_is_on_by_default_without_a_public_url() -> None:
    settings = load_settings({"DIGEST_CONFIG": ""})
    assert settings.web.enabled
    assert settings.web.page_size == 20
    assert settings.public_url is None


def test_public_url_and_switch_come_from_the_environment() -> None:
    settings = load_settings(
        {"DIGEST_PUBLIC_URL": "https://digest.example/", "DIGEST_WEB__ENABLED": "false"}
    )
    assert settings.public_url == "https://digest.example/"
    assert not settings.web.enabled


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("DIGEST_PUBLIC_URL", "javascript:alert(1)", "expected an http(s) URL"),
        ("DIGEST_PUBLIC_URL", "https://user:pw@digest.example/", "must not hold credentials"),
        ("DIGEST_WEB__PAGE_SIZE", "1", "greater than or equal to 5"),
        ("DIGEST_WEB__PAGE_SIZE", "100000", "less than or equal to 200"),
    ],
)
def test_a_wrong_value_is_one_line_naming_it(name: str, value: str, line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert "\n" not in message
    assert line in message
    assert name in message
