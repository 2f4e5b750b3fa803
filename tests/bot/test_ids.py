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
    ("text", "expected"),
    [
        ("arXiv:2604.31415v2", ArxivId("2604.31415", 2)),
        ("ARXIV:2604.31415", ArxivId("2604.31415")),
        ("  2604.31415v3\n", ArxivId("2604.31415", 3)),
        ("https://arxiv.org/pdf/2604.31415v1.pdf", ArxivId("2604.31415", 1)),
        ("http://export.arxiv.org/abs/2604.31415", ArxivId("2604.31415")),
        ("https://www.arxiv.org/abs/math.CA/9310001v2", ArxivId("math/9310001", 2)),
        ("https://arxiv.org/html/2604.31415v2", ArxivId("2604.31415", 2)),
        ("https://huggingface.co/papers/2604.31415", ArxivId("2604.31415")),
        ("https://hf.co/papers/2604.31415", ArxivId("2604.31415")),
        ("https://doi.org/10.48550/arXiv.2604.31415", ArxivId("2604.31415")),
        ("doi:10.48550/ARXIV.2604.31415", ArxivId("2604.31415")),
        ("alphaxiv.org/abs/2604.31415", ArxivId("2604.31415")),
        ("arxiv.org/abs/hep-th/9901001v2", ArxivId("hep-th/9901001", 2)),
        ("arxiv.org/list/cs.CL/recent", None),
        ("2604.31415 2604.06133", None),
        ("see 2604.31415", None),
        ("2010.1234", None),  # four digits after 2014: never issued
    ],
)
def test_one_identifier_in_the_forms_people_paste(text: str, expected: ArxivId | None) -> None:
    assert parse_arxiv_id(text) == expected


def test_digits_of_other_scripts_are_not_an_id() -> None:
    # int() reads Arabic-Indic digits; an id made of them would never match arXiv's.
    assert parse_arxiv_id("\u0662\u0666\u0660\u0664.06132") is None
    assert find_arxiv_ids("see \u0662\u0666\u0660\u0664.\u0660\u0666\u0661\u0663\u0662") == []


def test_an_absurd_version_is_refused_rather_than_crashing() -> None:
    huge = "2604.31415v" + "1" * 5000
    assert parse_arxiv_id(huge) is None
    assert arxiv_id_from_url(f"https://arxiv.org/abs/{huge}") is None
    assert find_arxiv_ids(f"read {huge} now") == []


def test_arxiv_ids_print_with_their_version() -> None:
    assert str(ArxivId("2604.31415", 2)) == "2604.31415v2"
    assert ArxivId("hep-th/9901001").canonical == "arxiv:hep-th/9901001"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2604.31415", ArxivId("2604.31415")),
        ("https://arxiv.org/format/2604.31415v2", ArxivId("2604.31415", 2)),
        ("https://huggingface.co/papers/2410.17243/community?x=1", ArxivId("2410.17243")),
        ("https://huggingface.co/papers/date/2026-04-13", None),
        ("https://arxiv.org/", None),
        ("https://arxiv.org/pdf/2604.31415v2.pdf", ArxivId("2604.31415", 2)),
        ("http://export.arxiv.org/abs/hep-th/9901001v3", ArxivId("hep-th/9901001", 3)),
        ("https://www.arxiv.org/html/2604.31415v1", ArxivId("2604.31415", 1)),
        ("https://huggingface.co/papers/2410.17243", ArxivId("2410.17243")),
        ("https://hf.co/papers/2410.17243?utm_source=x#c", ArxivId("2410.17243")),
        ("https://doi.org/10.48550/arXiv.2503.23674", ArxivId("2503.23674")),
        ("https://www.alphaxiv.org/abs/2604.31415", ArxivId("2604.31415")),
        ("https://arxiv.org/list/cs.CL/recent", None),
        ("https://arxiv.org/api/errors#incorrect_id_format_for_abc", None),
        ("https://example.org/abs/2604.31415", None),
        ("ftp://arxiv.org/abs/2604.31415", None),
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
    text = "Read https://arxiv.org/abs/2604.31415v2 and arXiv:2604.31415, then 2410.17243."
    assert find_arxiv_ids(text) == [ArxivId("2604.31415", 2), ArxivId("2410.17243")]


def test_links_inside_text_are_found_in_order() -> None:
    text = (
        'Older: <a href="http://arxiv.org/abs/hep-th/9901001v2">x</a>; newer: '
        "https://arxiv.org/pdf/2604.31415v1.pdf and https://huggingface.co/papers/2410.17243."
    )
    assert find_arxiv_ids(text) == [
        ArxivId("hep-th/9901001", 2),
        ArxivId("2604.31415", 1),
        ArxivId("2410.17243"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "in 2012.1234 units",  # a four-digit number after 2014 was never issued
        "Pricing 0612.1234",  # new style began in 2007-04
        "ratio 1213.12345",  # month 13
        "foo/9901001 and hep-th/9107001",  # unknown archive; before 1991-08
    ],
)
def test_lookalikes_in_text_are_not_ids(text: str) -> None:
    assert find_arxiv_ids(text) == []


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
        ("https://ex.org/p?ref=hn&z=1&a=2&ref_src=twsrc", "https://ex.org/p?z=1&a=2"),
        ("https://ex.org/p?source=rss&s=42", "https://ex.org/p?s=42"),
        ("https://ex.org/p?source=FEED", "https://ex.org/p"),
        ("https://ex.org/p?source=github", "https://ex.org/p?source=github"),
        ("https://ex.org/p?UTM_Source=x&gclid=1&msclkid=2&igshid=3", "https://ex.org/p"),
        ("http://ex.org:80/p", "http://ex.org/p"),
        ("https://ex.org:80/p", "https://ex.org:80/p"),
        ("https://www.Ex.org/CaseKept/", "https://www.ex.org/CaseKept/"),
        ("https://[2001:DB8::1]:8443/p", "https://[2001:db8::1]:8443/p"),
    ],
)
def test_canonical_urls(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "https://",
        "not a url",
        "https://example.org:99999/x",
        "http://[::1",
    ],
)
def test_unusable_links_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(ValueError, match="link"):
        canonical_url(url)


def test_canonical_ids() -> None:
    assert canonical_id("https://arxiv.org/pdf/2604.31415v3") == "arxiv:2604.31415"
    assert canonical_id("https://blog.example/x", "2604.31415v1") == "arxiv:2604.31415"
    assert canonical_id("https://Blog.example/x?utm_campaign=y") == "https://blog.example/x"
    assert canonical_id("https://huggingface.co/papers/2410.17243") == "arxiv:2410.17243"
    assert canonical_id("https://ex.org/p", "hep-th/9901001v2") == "arxiv:hep-th/9901001"


def test_an_unreadable_arxiv_id_falls_back_to_the_link() -> None:
    assert canonical_id("https://arxiv.org/abs/2604.31415", "garbage") == "arxiv:2604.31415"
    assert canonical_id("https://ex.org/p#top", "garbage") == "https://ex.org/p"


def test_canonical_id_refuses_an_unusable_link_that_is_not_a_paper() -> None:
    with pytest.raises(ValueError, match="http and https"):
        canonical_id("mailto:someone@example.org")
