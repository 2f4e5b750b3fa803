"""arXiv identifiers and canonical URLs, driven by third-party test cases (tests/data)."""

from __future__ import annotations

import pytest

from bot.ids import (
    ArxivId,
    arxiv_id_from_url,
    canonical_id,
    canonical_url,
    find_arxiv_ids,
    parse_arxiv_id,
)
from tests.conftest import data_file


def recorded_cases() -> list[tuple[str, str, str]]:
    """Sections 1, 2 and 4 of arxiv_ids.txt: (input, expected id or INVALID, version)."""
    cases = []
    section = 0
    for line in data_file("arxiv_ids.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("# ---- section"):
            section = int(line.split()[3].rstrip(":"))
            continue
        if not line or line.startswith("#") or section not in (1, 2, 4):
            continue
        text, expected, version, _source = line.split("\t", 3)
        cases.append(("" if text == "<EMPTY>" else text, expected, version))
    return cases


CASES = recorded_cases()


def test_the_recorded_file_was_read() -> None:
    assert len(CASES) > 100


@pytest.mark.parametrize(
    ("text", "expected", "version"), CASES, ids=[c[0] or "<EMPTY>" for c in CASES]
)
def test_recorded_identifier_cases(text: str, expected: str, version: str) -> None:
    parsed = parse_arxiv_id(text)
    if expected == "INVALID":
        assert parsed is None
    else:
        assert parsed == ArxivId(expected, None if version == "-" else int(version))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2604.06132", ArxivId("2604.06132")),
        ("https://arxiv.org/pdf/2604.06132v2.pdf", ArxivId("2604.06132", 2)),
        ("http://export.arxiv.org/abs/hep-th/9901001v3", ArxivId("hep-th/9901001", 3)),
        ("https://www.arxiv.org/html/2604.06132v1", ArxivId("2604.06132", 1)),
        ("https://huggingface.co/papers/2410.17243", ArxivId("2410.17243")),
        ("https://hf.co/papers/2410.17243?utm_source=x#c", ArxivId("2410.17243")),
        ("https://doi.org/10.48550/arXiv.2503.23674", ArxivId("2503.23674")),
        ("https://www.alphaxiv.org/abs/2604.06132", ArxivId("2604.06132")),
        ("https://arxiv.org/list/cs.CL/recent", None),
        ("https://arxiv.org/api/errors#incorrect_id_format_for_abc", None),
        ("https://example.org/abs/2604.06132", None),
        ("ftp://arxiv.org/abs/2604.06132", None),
        ("http://[::1", None),
    ],
)
def test_links_to_papers_are_recognised_and_nothing_else(
    url: str, expected: ArxivId | None
) -> None:
    assert arxiv_id_from_url(url) == expected


def test_ids_in_free_text() -> None:
    assert find_arxiv_ids("see arxiv:1201.12345") == [ArxivId("1201.12345")]
    assert find_arxiv_ids("cond-mat/97063007") == [ArxivId("cond-mat/9706300")]
    assert find_arxiv_ids("version of arXiv.math.GR/0512484 (2011).") == [ArxivId("math/0512484")]
    text = "Read https://arxiv.org/abs/2604.06132v2 and arXiv:2604.06132, then 2410.17243."
    assert find_arxiv_ids(text) == [ArxivId("2604.06132", 2), ArxivId("2410.17243")]


@pytest.mark.parametrize(
    "text",
    [
        "2448446.4710(5)",
        "HJD=2450274.4156+/-0.0009",
        "T_min[HJD]=49238.83662(14)+0.146352739(11)E.",
        "Pspin=1008.3408s",
        "2453527.87455^{+0.00085}_{-0.00091}",
        "2451435.4353",
    ],
)
def test_numbers_that_are_not_ids(text: str) -> None:
    assert find_arxiv_ids(text) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.ORG/Path?a=1#frag", "https://example.org/Path?a=1"),
        ("https://example.org:443/x", "https://example.org/x"),
        ("http://example.org:8080/x", "http://example.org:8080/x"),
        ("https://example.org", "https://example.org/"),
        (
            "https://blog.example/p?utm_source=rss&id=7&fbclid=abc&utm_medium=email",
            "https://blog.example/p?id=7",
        ),
        ("https://example.org/p?", "https://example.org/p"),
        ("https://user:pw@example.org/p", "https://example.org/p"),
        ("https://example.org/a%20b?q=%C3%A9", "https://example.org/a%20b?q=%C3%A9"),
    ],
)
def test_canonical_urls(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "https://", "not a url"]
)
def test_unusable_links_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(ValueError, match="link"):
        canonical_url(url)


def test_canonical_ids() -> None:
    assert canonical_id("https://arxiv.org/pdf/2604.06132v3") == "arxiv:2604.06132"
    assert canonical_id("https://blog.example/x", "2604.06132v1") == "arxiv:2604.06132"
    assert canonical_id("https://Blog.example/x?utm_campaign=y") == "https://blog.example/x"
