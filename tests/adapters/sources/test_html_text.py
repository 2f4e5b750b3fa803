"""HTML to readable text: scripts dropped, entities decoded, links kept and made absolute."""

from __future__ import annotations

import pytest

from adapters.sources.html_text import clip_text, html_to_text, strip_tags


def test_text_is_clean_and_links_are_kept() -> None:
    html = (
        "<p>Hello &amp; <a href='/post/1'>welcome</a> to <b>the</b> blog.</p>"
        "<script>alert('x')</script><style>p{}</style>"
        "<ul><li>One</li><li>Two <a href='javascript:steal()'>click</a></li></ul>"
        "<p><a href='https://example.com/'>https://example.com/</a><img alt='a chart'></p>"
    )
    result = html_to_text(html, base_url="https://blog.example/archive/")
    assert result.text == (
        "Hello & welcome (https://blog.example/post/1) to the blog.\n\n- One\n\n- Two click"
        "\n\nhttps://example.com/ a chart"
    )
    assert result.links == ("https://blog.example/post/1", "https://example.com/")


def test_malformed_links_and_html_do_not_raise() -> None:
    result = html_to_text("<p><a href='http://[at McLaren]/x'>odd</a> <b>unclosed <i>tags")
    assert result.text == "odd unclosed tags"
    assert result.links == ()


def test_long_text_is_clipped_at_a_word_never_mid_word() -> None:
    html = "<p>" + " ".join(f"word{n}" for n in range(3000)) + "</p>"
    text = html_to_text(html, max_text_chars=500).text
    assert len(text) <= 500
    assert text.endswith("…")
    last_word = text.removesuffix("…").split()[-1]
    assert last_word.startswith("word")
    assert int(last_word.removeprefix("word")) < 3000


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short.", 50, "Short."),
        (
            "First sentence here. Second one is longer than the rest",
            30,
            "First sentence here. …",
        ),
        (
            "One. Two three four five six seven. Eight nine",
            42,
            "One. Two three four five six seven. …",
        ),
        ("see https://example.com/a/very/long/path for details", 30, "see…"),
    ],
)
def test_clip_text(text: str, limit: int, expected: str) -> None:
    assert clip_text(text, limit) == expected


def test_strip_tags_gives_one_line() -> None:
    assert strip_tags("  A &amp; <i>B</i>\n  C ") == "A & B C"
    assert strip_tags("Plain title") == "Plain title"


def test_embeds_and_non_web_links_are_left_out() -> None:
    html = (
        "<p>Caf&eacute; &#8217;n&#x2019; b&nbsp;c</p>"
        "<noscript>enable JS</noscript><iframe src='https://ads.example/'>ad</iframe>"
        "<form><input value='q'>Search</form><svg><text>logo</text></svg>"
        "<p><a href='mailto:me@example.org'>mail me</a> or "
        "<a href='data:text/html,hi'>this</a> or <a href='//cdn.example/x'>that</a></p>"
    )
    result = html_to_text(html, base_url="https://blog.example/")
    assert (
        result.text == "Café \u2019n\u2019 b c\n\nmail me or this or that (https://cdn.example/x)"
    )
    assert result.links == ("https://cdn.example/x",)


def test_repeated_links_are_listed_once_in_order() -> None:
    html = "<a href='/b'>B</a> <a href='/a'>A</a> <a href='/b'>B again</a>"
    assert html_to_text(html, base_url="https://x.example/").links == (
        "https://x.example/b",
        "https://x.example/a",
    )


@pytest.mark.parametrize("limit", [10, 57, 200, 999])
def test_clip_never_exceeds_the_limit_nor_cuts_a_word(limit: int) -> None:
    words = [f"w{n}" for n in range(400)]
    text = " ".join(f"{word}." if n % 9 == 8 else word for n, word in enumerate(words))
    clipped = clip_text(text, limit)
    assert len(clipped) <= limit
    kept = clipped.removesuffix("…").split()
    assert kept == text.split()[: len(kept)]  # whole words only, the same ones


def test_only_the_first_part_of_huge_html_is_read() -> None:
    html = "<p>start</p>" + "<p>filler words here</p>" * 10_000 + "<p>THE END</p>"
    result = html_to_text(html, max_html_chars=1000, max_text_chars=100_000)
    assert result.text.startswith("start")
    assert "THE END" not in result.text
