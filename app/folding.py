"""The one rule `search` follows on every database: case-insensitive by
Unicode simple case folding, accents significant (``é`` is not ``e``).

A name matches a term when the term, folded, is a substring of the name,
folded, where folding maps each character to one character (simple case
folding: ``Ä`` to ``ä``, ``Σ`` and ``ς`` to ``σ``, ``ẞ`` to ``ß``, ``µ`` to
``μ``, ``ſ`` to ``s``; ``ß`` stays ``ß``, never ``ss``; ``İ`` stays ``İ``).

``FOLD`` is exactly the folding of SQLite's FTS5 trigram tokenizer (SQLite
3.40; its tables are those of Unicode 6.1, so letters Unicode added later,
such as Cherokee small letters or Georgian Mtavruli, fold to themselves),
written out here so that the searches the index cannot serve (two
characters, or SQLite without FTS5) and PostgreSQL fold the same way:
tests/test_search.py compares it with FTS5 code point by code point. FTS5
also reads U+FFFE and U+FFFF as U+FFFD, so they fold to it here too.
"""

from __future__ import annotations

import functools

# (first, last, step, delta): every step-th code point from first to last
# folds to itself + delta. Generated from FTS5 (see the module docstring).
_RUNS = (
    (0x0041, 0x005A, 1, 32),
    (0x00B5, 0x00B5, 1, 775),
    (0x00C0, 0x00D6, 1, 32),
    (0x00D8, 0x00DE, 1, 32),
    (0x0100, 0x012E, 2, 1),
    (0x0132, 0x0136, 2, 1),
    (0x0139, 0x0147, 2, 1),
    (0x014A, 0x0176, 2, 1),
    (0x0178, 0x0178, 1, -121),
    (0x0179, 0x017D, 2, 1),
    (0x017F, 0x017F, 1, -268),
    (0x0181, 0x0181, 1, 210),
    (0x0182, 0x0184, 2, 1),
    (0x0186, 0x0186, 1, 206),
    (0x0187, 0x0187, 1, 1),
    (0x0189, 0x018A, 1, 205),
    (0x018B, 0x018B, 1, 1),
    (0x018E, 0x018E, 1, 79),
    (0x018F, 0x018F, 1, 202),
    (0x0190, 0x0190, 1, 203),
    (0x0191, 0x0191, 1, 1),
    (0x0193, 0x0193, 1, 205),
    (0x0194, 0x0194, 1, 207),
    (0x0196, 0x0196, 1, 211),
    (0x0197, 0x0197, 1, 209),
    (0x0198, 0x0198, 1, 1),
    (0x019C, 0x019C, 1, 211),
    (0x019D, 0x019D, 1, 213),
    (0x019F, 0x019F, 1, 214),
    (0x01A0, 0x01A4, 2, 1),
    (0x01A6, 0x01A6, 1, 218),
    (0x01A7, 0x01A7, 1, 1),
    (0x01A9, 0x01A9, 1, 218),
    (0x01AC, 0x01AC, 1, 1),
    (0x01AE, 0x01AE, 1, 218),
    (0x01AF, 0x01AF, 1, 1),
    (0x01B1, 0x01B2, 1, 217),
    (0x01B3, 0x01B5, 2, 1),
    (0x01B7, 0x01B7, 1, 219),
    (0x01B8, 0x01B8, 1, 1),
    (0x01BC, 0x01BC, 1, 1),
    (0x01C4, 0x01C4, 1, 2),
    (0x01C5, 0x01C5, 1, 1),
    (0x01C7, 0x01C7, 1, 2),
    (0x01C8, 0x01C8, 1, 1),
    (0x01CA, 0x01CA, 1, 2),
    (0x01CB, 0x01DB, 2, 1),
    (0x01DE, 0x01EE, 2, 1),
    (0x01F1, 0x01F1, 1, 2),
    (0x01F2, 0x01F4, 2, 1),
    (0x01F6, 0x01F6, 1, -97),
    (0x01F7, 0x01F7, 1, -56),
    (0x01F8, 0x021E, 2, 1),
    (0x0220, 0x0220, 1, -130),
    (0x0222, 0x0232, 2, 1),
    (0x023A, 0x023A, 1, 10795),
    (0x023B, 0x023B, 1, 1),
    (0x023D, 0x023D, 1, -163),
    (0x023E, 0x023E, 1, 10792),
    (0x0241, 0x0241, 1, 1),
    (0x0243, 0x0243, 1, -195),
    (0x0244, 0x0244, 1, 69),
    (0x0245, 0x0245, 1, 71),
    (0x0246, 0x024E, 2, 1),
    (0x0345, 0x0345, 1, 116),
    (0x0370, 0x0372, 2, 1),
    (0x0376, 0x0376, 1, 1),
    (0x0386, 0x0386, 1, 38),
    (0x0388, 0x038A, 1, 37),
    (0x038C, 0x038C, 1, 64),
    (0x038E, 0x038F, 1, 63),
    (0x0391, 0x03A1, 1, 32),
    (0x03A3, 0x03AB, 1, 32),
    (0x03C2, 0x03C2, 1, 1),
    (0x03CF, 0x03CF, 1, 8),
    (0x03D0, 0x03D0, 1, -30),
    (0x03D1, 0x03D1, 1, -25),
    (0x03D5, 0x03D5, 1, -15),
    (0x03D6, 0x03D6, 1, -22),
    (0x03D8, 0x03EE, 2, 1),
    (0x03F0, 0x03F0, 1, -54),
    (0x03F1, 0x03F1, 1, -48),
    (0x03F4, 0x03F4, 1, -60),
    (0x03F5, 0x03F5, 1, -64),
    (0x03F7, 0x03F7, 1, 1),
    (0x03F9, 0x03F9, 1, -7),
    (0x03FA, 0x03FA, 1, 1),
    (0x03FD, 0x03FF, 1, -130),
    (0x0400, 0x040F, 1, 80),
    (0x0410, 0x042F, 1, 32),
    (0x0460, 0x0480, 2, 1),
    (0x048A, 0x04BE, 2, 1),
    (0x04C0, 0x04C0, 1, 15),
    (0x04C1, 0x04CD, 2, 1),
    (0x04D0, 0x0526, 2, 1),
    (0x0531, 0x0556, 1, 48),
    (0x10A0, 0x10C5, 1, 7264),
    (0x10C7, 0x10C7, 1, 7264),
    (0x10CD, 0x10CD, 1, 7264),
    (0x1E00, 0x1E94, 2, 1),
    (0x1E9B, 0x1E9B, 1, -58),
    (0x1E9E, 0x1E9E, 1, -7615),
    (0x1EA0, 0x1EFE, 2, 1),
    (0x1F08, 0x1F0F, 1, -8),
    (0x1F18, 0x1F1D, 1, -8),
    (0x1F28, 0x1F2F, 1, -8),
    (0x1F38, 0x1F3F, 1, -8),
    (0x1F48, 0x1F4D, 1, -8),
    (0x1F59, 0x1F5F, 2, -8),
    (0x1F68, 0x1F6F, 1, -8),
    (0x1F88, 0x1F8F, 1, -8),
    (0x1F98, 0x1F9F, 1, -8),
    (0x1FA8, 0x1FAF, 1, -8),
    (0x1FB8, 0x1FB9, 1, -8),
    (0x1FBA, 0x1FBB, 1, -74),
    (0x1FBC, 0x1FBC, 1, -9),
    (0x1FBE, 0x1FBE, 1, -7173),
    (0x1FC8, 0x1FCB, 1, -86),
    (0x1FCC, 0x1FCC, 1, -9),
    (0x1FD8, 0x1FD9, 1, -8),
    (0x1FDA, 0x1FDB, 1, -100),
    (0x1FE8, 0x1FE9, 1, -8),
    (0x1FEA, 0x1FEB, 1, -112),
    (0x1FEC, 0x1FEC, 1, -7),
    (0x1FF8, 0x1FF9, 1, -128),
    (0x1FFA, 0x1FFB, 1, -126),
    (0x1FFC, 0x1FFC, 1, -9),
    (0x2126, 0x2126, 1, -7517),
    (0x212A, 0x212A, 1, -8383),
    (0x212B, 0x212B, 1, -8262),
    (0x2132, 0x2132, 1, 28),
    (0x2160, 0x216F, 1, 16),
    (0x2183, 0x2183, 1, 1),
    (0x24B6, 0x24CF, 1, 26),
    (0x2C00, 0x2C2E, 1, 48),
    (0x2C60, 0x2C60, 1, 1),
    (0x2C62, 0x2C62, 1, -10743),
    (0x2C63, 0x2C63, 1, -3814),
    (0x2C64, 0x2C64, 1, -10727),
    (0x2C67, 0x2C6B, 2, 1),
    (0x2C6D, 0x2C6D, 1, -10780),
    (0x2C6E, 0x2C6E, 1, -10749),
    (0x2C6F, 0x2C6F, 1, -10783),
    (0x2C70, 0x2C70, 1, -10782),
    (0x2C72, 0x2C72, 1, 1),
    (0x2C75, 0x2C75, 1, 1),
    (0x2C7E, 0x2C7F, 1, -10815),
    (0x2C80, 0x2CE2, 2, 1),
    (0x2CEB, 0x2CED, 2, 1),
    (0x2CF2, 0x2CF2, 1, 1),
    (0xA640, 0xA66C, 2, 1),
    (0xA680, 0xA696, 2, 1),
    (0xA722, 0xA72E, 2, 1),
    (0xA732, 0xA76E, 2, 1),
    (0xA779, 0xA77B, 2, 1),
    (0xA77D, 0xA77D, 1, -35332),
    (0xA77E, 0xA786, 2, 1),
    (0xA78B, 0xA78B, 1, 1),
    (0xA78D, 0xA78D, 1, -42280),
    (0xA790, 0xA792, 2, 1),
    (0xA7A0, 0xA7A8, 2, 1),
    (0xA7AA, 0xA7AA, 1, -42308),
    (0xFF21, 0xFF3A, 1, 32),
    (0xFFFE, 0xFFFE, 1, -1),
    (0xFFFF, 0xFFFF, 1, -2),
    (0x10400, 0x10427, 1, 40),
)

FOLD: dict[int, int] = {
    code: code + delta
    for first, last, step, delta in _RUNS
    for code in range(first, last + 1, step)
}

# Characters beyond ASCII that fold into it (the Kelvin sign, the long s).
_INTO_ASCII = frozenset(
    chr(target) for code, target in FOLD.items() if code > 127 and target < 128
)


def fold(text: str) -> str:
    """``text`` folded: ASCII by ``str.lower`` (the same there, and faster)."""
    return text.lower() if text.isascii() else text.translate(FOLD)


def ascii_lower_finds(folded_term: str) -> bool:
    """Whether ASCII-only lowering of a name (SQLite's ``lower()``) finds this
    folded term exactly as folding would: the term is ASCII and holds no
    letter that a character beyond ASCII folds into."""
    return folded_term.isascii() and not _INTO_ASCII.intersection(folded_term)


def contains(name: str | None, folded_term: str) -> bool | None:
    """The SQL function ``gift_name_contains(name, folded term)`` (SQLite)."""
    if name is None:
        return None
    return folded_term in fold(name)


@functools.cache
def _same_fold() -> dict[str, str]:
    """Each folded character -> every character folding to it."""
    classes: dict[str, list[str]] = {}
    for code, target in sorted(FOLD.items()):
        classes.setdefault(chr(target), [chr(target)]).append(chr(code))
    return {target: "".join(members) for target, members in classes.items()}


def _escaped(char: str) -> str:
    if char.isascii() and char.isalnum():
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def regex(term: str) -> str:
    """A case-sensitive regular expression (PostgreSQL's ``~``) matching the
    names that hold ``term`` by this rule: each character becomes the class of
    every character folding as it does, each written as an escape, so no
    character of the term is an operator."""
    classes = _same_fold()
    parts = []
    for char in fold(term):
        members = classes.get(char, char)
        escaped = "".join(_escaped(member) for member in members)
        parts.append(escaped if len(members) == 1 else f"[{escaped}]")
    return "".join(parts)


def cased() -> str:
    """Every character of a fold class of two or more: those whose
    ``lower()`` a database may not agree with folding on."""
    return "".join(m for members in _same_fold().values() for m in members)


def beyond_trigram_regex(term: str) -> bool:
    """Whether ``regex(term)`` holds a character above U+07FF: pg_trgm then
    takes no trigram from it (its whole index read, 464 ms at a million
    gifts for ``kit``, whose ``k`` has the Kelvin sign's class)."""
    classes = _same_fold()
    return any(
        ord(member) > 0x7FF for char in fold(term) for member in classes.get(char, char)
    )


def _like_escaped(char: str) -> str:
    return "\\" + char if char in "%_\\" else char


def like_superset(term: str, lowers: dict[str, str]) -> str:
    """An ``ILIKE`` pattern (escape ``\\``) that every name holding ``term``
    by this rule matches: a prefilter PostgreSQL's trigram index can always
    read, where ``regex(term)`` may give it nothing (pg_trgm extracts no
    trigram from a class holding a character above U+07FF, such as the
    Kelvin sign in ``k``'s).

    ILIKE compares the database's ``lower()`` of name and pattern, which is
    not folding (``lower('ς')`` is ``ς``, while ``ς`` and ``σ`` fold alike).
    ``lowers`` is that database's ``lower()`` of each character of
    ``cased()``. A character of the folded term stays literal only where
    every character folding to it lowers to what it lowers to; elsewhere the
    pattern has ``_`` (any one character), or ``%`` if one of them lowers to
    more than one. So it never loses a match; it may keep names the exact
    regex then drops."""
    classes = _same_fold()
    parts = ["%"]
    for char in fold(term):
        members = classes.get(char)
        if members is None:  # folds from nothing else: itself, whatever lower() does
            parts.append(_like_escaped(char))
            continue
        lowered = [lowers.get(member) for member in members]
        if all(low == lowers.get(char) and low is not None for low in lowered):
            parts.append(_like_escaped(char))
        elif all(low is not None and len(low) == 1 for low in lowered):
            parts.append("_")
        else:
            parts.append("%")
    parts.append("%")
    return "".join(parts)
