"""ASCII host names from Vietnamese site names.

A slug depends only on the name itself (and, for a commune, its district's slug), never on row
order or on other rows: that is what keeps host names stable while the registry changes.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Administrative prefixes dropped from names: "UBND xã Yên Tập" → "Yên Tập". Longest first.
_PREFIXES = (
    "ủy ban nhân dân",
    "uỷ ban nhân dân",
    "ubnd",
)
_UNIT_WORDS = (
    "thành phố",
    "thị xã",
    "thị trấn",
    "đặc khu",
    "phường",
    "huyện",
    "xã",
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def ascii_fold(text: str) -> str:
    """Vietnamese to plain ASCII, keeping case and spacing: "Cẩm Khê" → "Cam Khe".

    Folded a word at a time through a cache: a province's names reuse a few thousand syllables,
    and `check` folds every name (bench/registry_scale.py).
    """
    if text.isascii():
        return text
    return " ".join(map(_fold_word, text.split(" ")))


@functools.lru_cache(maxsize=65536)
def _fold_word(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .encode("ascii", "ignore")
        .decode()
    )


def short_name(name: str) -> str:
    """The name without its administrative prefix: "UBND huyện Cẩm Khê" → "Cẩm Khê"."""
    text = " ".join(nfc(name).split())
    low = text.casefold()
    for prefix in _PREFIXES:
        if low.startswith(prefix + " "):
            text = text[len(prefix) + 1 :]
            low = low[len(prefix) + 1 :]
            break
    for word in _UNIT_WORDS:
        if low.startswith(word + " "):
            text = text[len(word) + 1 :]
            break
    return text.strip()


def slugify(text: str) -> str:
    """ASCII, lower case, words joined by ``-``; empty when nothing is left."""
    return _NON_ALNUM.sub("-", ascii_fold(nfc(text)).lower()).strip("-")


def site_slug(name: str, district_slug: str | None = None) -> str:
    """Host name of a site: its short name, plus ``.<district>`` for a commune."""
    base = slugify(short_name(name))
    if base and district_slug:
        return f"{base}.{district_slug}"
    return base
