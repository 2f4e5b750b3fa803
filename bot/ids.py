"""Identity: arXiv identifiers and URL canonicalisation (DESIGN.md §2).

A paper is ``arxiv:<id>`` (no version) whichever source brought it; anything else is its URL
with the scheme and host lower-cased and tracking parameters and the fragment dropped. The
arXiv grammar follows the arXiv API manual and arXiv's own identifier rules: new-style
``YYMM.NNNN`` (2007-04 to 2014-12) or ``YYMM.NNNNN`` (2015 onward), old-style
``archive[.SC]/YYMMNNN`` (1991-08 to 2007-03), an optional ``vN`` with N >= 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

# The archives that old-style identifiers (before 2007-04) were issued under.
OLD_STYLE_ARCHIVES = frozenset(
    {
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an",
        "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an",
        "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin",
        "nucl-ex", "nucl-th", "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "q-fin",
        "quant-ph", "solv-int", "stat", "supr-con",
    }
)  # fmt: skip

# Digits are spelled [0-9]: ``\d`` would also take other scripts' digits, which int() accepts.
_NEW_STYLE = re.compile(r"(?P<yymm>[0-9]{4})\.(?P<number>[0-9]{4,5})(?:v(?P<version>[0-9]+))?")
_OLD_STYLE = re.compile(
    r"(?P<archive>[A-Za-z][A-Za-z-]*)(?:\.(?P<subject>[A-Za-z]+))?/"
    r"(?P<yymm>[0-9]{4})(?P<number>[0-9]{3})(?:v(?P<version>[0-9]+))?"
)
_SUBJECT_CLASS = re.compile(r"[A-Z]{2}")
# In free text: a new-style id not glued to other digits, dots or letters (so astronomical
# numbers such as "2448446.4710(5)" or "Pspin=1008.3408s" are not taken for ids) ...
_NEW_IN_TEXT = re.compile(r"(?<![\w.])([0-9]{4}\.[0-9]{4,5}(?:v[0-9]+)?)(?!\w)(?!\.[0-9])")
# ... and an old-style one, whose 7 digits may be followed by more text ("cond-mat/97063007").
_OLD_IN_TEXT = re.compile(r"(?<![\w-])([a-z][a-z-]*(?:\.[A-Z]{2})?/[0-9]{7}(?:v[0-9]+)?)")
_ARXIV_PREFIX = re.compile(r"^arxiv:", re.IGNORECASE)
_DATACITE_DOI = re.compile(r"^(?:doi:)?10\.48550/arxiv\.", re.IGNORECASE)
_REPEATED_SLASHES = re.compile(r"/{2,}")
# A paper link written without its scheme ("arxiv.org/abs/2604.31415").
_SCHEMELESS_LINK = re.compile(
    r"^(?:www\.|export\.)?(?:arxiv\.org|alphaxiv\.org|huggingface\.co|hf\.co|doi\.org)/",
    re.IGNORECASE,
)
# Longer version strings are garbage, and would trip Python's int() digit limit (4300).
_MAX_VERSION_DIGITS = 9

_ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})
_ARXIV_PATHS = ("/abs/", "/pdf/", "/html/", "/format/")
_HF_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co"})
_DOI_HOSTS = frozenset({"doi.org", "dx.doi.org", "www.doi.org"})
_ALPHAXIV_HOSTS = frozenset({"alphaxiv.org", "www.alphaxiv.org"})

# Query parameters that only say how a reader arrived, never which page they are on.
_TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid",
        "igshid", "yclid", "_hsenc", "_hsmi", "ref", "ref_src", "ref_url", "mkt_tok",
        "oly_enc_id", "oly_anon_id", "vero_id", "spm", "cmpid",
    }
)  # fmt: skip
# ``source`` is a real parameter on some sites; only the values feed readers append are noise.
_TRACKING_SOURCE_VALUES = frozenset({"rss", "feed"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class ArxivId:
    """An arXiv identifier without its version, and the version when one was given."""

    id: str
    version: int | None = None

    @property
    def canonical(self) -> str:
        """Return the item id of this paper: ``arxiv:<id>``."""
        return f"arxiv:{self.id}"

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"


def _version(text: str | None) -> int | bool | None:
    """Return the version number, ``None`` when absent, ``False`` when invalid (v0)."""
    if text is None:
        return None
    if len(text) > _MAX_VERSION_DIGITS:
        return False
    number = int(text)
    return number if number >= 1 else False


def _new_style(match: re.Match[str], *, strict: bool = True) -> ArxivId | None:
    yymm, number = match["yymm"], match["number"]
    month = int(yymm[2:])
    if not 1 <= month <= 12 or int(number) == 0 or yymm < "0704":
        return None
    if len(number) == 4 and yymm > "1412":
        return None
    # Free text is read as leniently as arXiv's own link finder, which takes "1201.12345": a
    # five-digit number is not checked against the month there.
    if strict and len(number) == 5 and yymm < "1501":
        return None
    version = _version(match["version"])
    if version is False:
        return None
    return ArxivId(f"{yymm}.{number}", version if isinstance(version, int) else None)


def _old_style(match: re.Match[str]) -> ArxivId | None:
    archive, subject = match["archive"], match["subject"]
    # Archives are matched in either case (arXiv accepts "HEP-TH/..."); a subject class is
    # exactly two upper-case letters and is not part of the canonical id.
    if archive.lower() not in OLD_STYLE_ARCHIVES:
        return None
    if subject is not None and not _SUBJECT_CLASS.fullmatch(subject):
        return None
    yymm, number = match["yymm"], match["number"]
    year, month = int(yymm[:2]), int(yymm[2:])
    full_year = 1900 + year if year >= 91 else 2000 + year
    if not 1 <= month <= 12 or not (1991, 8) <= (full_year, month) <= (2007, 3):
        return None
    if int(number) == 0:
        return None
    version = _version(match["version"])
    if version is False:
        return None
    return ArxivId(
        f"{archive.lower()}/{yymm}{number}", version if isinstance(version, int) else None
    )


def _parse_bare(text: str) -> ArxivId | None:
    """Parse an id that may be followed by ``/anything`` (arXiv ignores a trailing path)."""
    for pattern, build in ((_NEW_STYLE, _new_style), (_OLD_STYLE, _old_style)):
        match = pattern.match(text)
        if match is None:
            continue
        rest = text[match.end() :]
        if rest and not rest.startswith("/"):
            return None
        return build(match)
    return None


def parse_arxiv_id(text: str) -> ArxivId | None:
    """Parse exactly one arXiv identifier, in any form arXiv itself accepts.

    Accepts bare ids (``2604.31415v2``, ``hep-th/9901001``, ``math.CA/9310001``), the
    ``arXiv:`` prefix, leading or doubled slashes, a trailing path, the DataCite DOI
    ``10.48550/arXiv.<id>`` and links to a paper, with or without ``https://`` (see
    `arxiv_id_from_url`). Returns ``None`` for anything else; never raises.
    """
    text = text.strip()
    if not text:
        return None
    if "://" in text:
        return arxiv_id_from_url(text)
    if _SCHEMELESS_LINK.match(text):
        return arxiv_id_from_url(f"https://{text}")
    text = _DATACITE_DOI.sub("", _ARXIV_PREFIX.sub("", text))
    text = _REPEATED_SLASHES.sub("/", text).lstrip("/")
    return _parse_bare(text)


def _id_after(path: str, prefix: str) -> ArxivId | None:
    rest = unquote(path[len(prefix) :])
    if rest.lower().endswith(".pdf"):
        rest = rest[: -len(".pdf")]
    return _parse_bare(rest)


def arxiv_id_from_url(url: str) -> ArxivId | None:
    """Return the paper a link points at, or ``None`` when it is not a link to a paper.

    Recognised: arxiv.org (also www. and export.) ``/abs/``, ``/pdf/`` (with or without
    ``.pdf``), ``/html/``, ``/format/``; Hugging Face ``/papers/<id>``; doi.org's arXiv
    DataCite DOIs; alphaxiv.org ``/abs/``. Never raises.
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    path = _REPEATED_SLASHES.sub("/", parts.path)
    if host in _ARXIV_HOSTS:
        prefix = next((p for p in _ARXIV_PATHS if path.startswith(p)), None)
        return _id_after(path, prefix) if prefix else None
    if host in _HF_HOSTS and path.startswith("/papers/"):
        return _id_after(path, "/papers/")
    if host in _ALPHAXIV_HOSTS and path.startswith("/abs/"):
        return _id_after(path, "/abs/")
    if host in _DOI_HOSTS:
        doi = unquote(path.lstrip("/"))
        return _parse_bare(_DATACITE_DOI.sub("", doi)) if _DATACITE_DOI.match(doi) else None
    return None


def find_arxiv_ids(text: str) -> list[ArxivId]:
    """Return the arXiv ids mentioned in free text, deduplicated, in order of appearance."""
    found: list[tuple[int, ArxivId]] = []
    for match in _NEW_IN_TEXT.finditer(text):
        new = _NEW_STYLE.fullmatch(match.group(1))
        parsed = _new_style(new, strict=False) if new else None
        if parsed is not None:
            found.append((match.start(), parsed))
    for match in _OLD_IN_TEXT.finditer(text):
        old = _OLD_STYLE.match(match.group(1))
        parsed = _old_style(old) if old else None
        if parsed is not None:
            found.append((match.start(), parsed))
    seen: set[str] = set()
    ordered: list[ArxivId] = []
    for _, arxiv_id in sorted(found, key=lambda pair: pair[0]):
        if arxiv_id.id not in seen:
            seen.add(arxiv_id.id)
            ordered.append(arxiv_id)
    return ordered


def _is_tracking(parameter: str) -> bool:
    key, _, value = parameter.partition("=")
    key = unquote(key).lower()
    if key == "source":
        return unquote(value).lower() in _TRACKING_SOURCE_VALUES
    return key.startswith("utm_") or key in _TRACKING_PARAMETERS


def canonical_url(url: str) -> str:
    """Normalise a web link for use as an item's identity.

    Lower-cased scheme and host, no default port, no credentials, no fragment, no tracking
    parameters (``utm_*``, ``fbclid``, ``ref``, ``source=rss`` ...); the path's case, the
    percent-encoding and the order of the remaining parameters are kept as given.

    Raises `ValueError` for a link that is not http(s) or has no host.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"malformed link {text[:80]!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"only http and https links are accepted, not {text[:80]!r}")
    if not host:
        raise ValueError(f"link without a host: {text[:80]!r}")
    netloc = host.lower()
    if ":" in netloc:  # an IPv6 literal keeps its brackets
        netloc = f"[{netloc}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    query = "&".join(part for part in parts.query.split("&") if part and not _is_tracking(part))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def canonical_id(url: str, arxiv_id: str | None = None) -> str:
    """Return an item's canonical id: ``arxiv:<id>`` for a paper, else the canonical URL.

    A given ``arxiv_id`` wins; when it is missing or unreadable, the link itself is asked.
    Raises `ValueError` (from `canonical_url`) when neither names a paper and the link is
    unusable.
    """
    paper = parse_arxiv_id(arxiv_id) if arxiv_id else None
    if paper is None:
        paper = arxiv_id_from_url(url)
    return paper.canonical if paper else canonical_url(url)
