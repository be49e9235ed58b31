"""Canonical identifiers (标识符): the rules a new student id, event id or catalog code meets, and the skeleton that
tells two ids apart only if a reader can.

An id is what a registrar reads, types and compares on a printed transcript, so two ids that print the same must be
the same id. A new id is therefore refused when it

- begins or ends with a space (``id_surrounding_space``);
- holds a character a reader cannot see or type: a control, format (zero-width, bidi override or mark),
  private-use, surrogate or unassigned code point, or a space other than U+0020 (``id_forbidden_character``);
- is not in normal form: not NFC, or changed by compatibility normalisation (NFKC), as full-width ``Ｓ1`` is
  (``id_not_normalized``; full-width Latin and digits are never needed in an id);
- mixes scripts beyond UTS #39's "highly restrictive" level (``id_mixed_script``): one script, or Latin with Han and
  Kana, with Han and Bopomofo, or with Han and Hangul; Common and Inherited characters (digits, ``-``) go with any;
- or has the skeleton of an id already in the ledger (``id_lookalike``; the ledger checks that, with ``skeleton``).

Han with Latin and digits is ordinary: ``李娜-2025`` and ``HNJX-2024-0317`` are good ids; the look-alikes of ``S1``
are not:

>>> problems("李娜-2025"), problems("HNJX-2024-0317"), problems("张三"), problems("S-001")
([], [], [], [])
>>> [p.code for p in problems("S1\\u200b")], [p.code for p in problems("Ｓ1")], [p.code for p in problems("Sа1")]
(['id_forbidden_character'], ['id_not_normalized'], ['id_mixed_script'])
>>> problems("S1\\u202e")[0].message
"'S1\\\\u202e' holds U+202E RIGHT-TO-LEFT OVERRIDE, a format character (invisible: zero-width, bidi control or mark)"
>>> len({skeleton(s) for s in ["S1", "S1\\u200b", "Ｓ1", "Ѕ1", "S1\\u202e", "Sl", "SI"]})
1

The skeleton is UTS #39's: compatibility decomposition (NFKD, so full-width is ASCII), default-ignorable characters
removed, each character replaced by its prototype in Unicode's confusables mapping, canonical decomposition again.
The mapping and the script of each character come from the data of the ``confusable-homoglyphs`` package (Unicode's
``confusables.txt`` and ``Scripts.txt``); the character categories and normal forms from Python's ``unicodedata``.
``RULES_VERSION`` names both: a stored skeleton is only comparable with one made under the same version.

Pure: strings in, problems out; nothing of the package is imported.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from typing import Any, Literal

__all__ = ["FORBIDDEN_CATEGORIES", "HIGHLY_RESTRICTIVE", "KEY_CHARS", "Problem", "RULES_VERSION", "describe",
           "imitations", "is_canonical", "problems", "script_of", "scripts_of", "shown", "skeleton", "skeleton_key"]

FORBIDDEN_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "a format character (invisible: zero-width, bidi control or mark)",
    "Co": "a private-use character",
    "Cs": "a surrogate",
    "Cn": "an unassigned code point",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Zs": "a space other than U+0020 SPACE",
}
"""The Unicode general categories an id may not hold (U+0020 SPACE, between other characters, is the one space
allowed), with what each is."""

COMMON_SCRIPTS = frozenset({"COMMON", "INHERITED", "UNKNOWN"})
"""Scripts that go with any other (digits, punctuation, combining marks); and no script at all (an unassigned code
point, refused as a forbidden character)."""
HIGHLY_RESTRICTIVE = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
"""UTS #39's "highly restrictive" level: besides one script alone, the scripts of an id fit in one of these."""

_DEFAULT_IGNORABLE_EXTRA = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x1810), *range(0xFE00, 0xFE10),
     *range(0xE0100, 0xE01F0)])
"""Default-ignorable code points that are not format characters (Cf): the combining grapheme joiner, Hangul fillers,
Khmer inherent vowels, variation selectors. A skeleton drops them with every format character."""


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with an id: the stable code of the rule it breaks, a sentence part naming the id and the
    character at fault (its code point and name), and that character."""

    code: str
    message: str
    char: str | None = None


def describe(char: str) -> str:
    """A character as a message names it: its code point and Unicode name.

    >>> describe("\\u200b"), describe("Ѕ"), describe("\\ue000")
    ('U+200B ZERO WIDTH SPACE', 'U+0405 CYRILLIC CAPITAL LETTER DZE', 'U+E000 (no name: private use)')
    """
    name = unicodedata.name(char, "")
    if not name:
        category = unicodedata.category(char)
        kind = {"Cc": "control", "Co": "private use", "Cs": "surrogate", "Cn": "unassigned"}.get(category, category)
        name = f"(no name: {kind})"
    return f"U+{ord(char):04X} {name}"


def shown(value: str) -> str:
    """An id quoted for a message, with every character an id may not hold written as its escape (so that a bidi
    override cannot turn the sentence around it, nor an invisible character hide).

    >>> print(shown("S1\\u202e"), shown("李娜-2025"), shown("a b"))
    'S1\\u202e' '李娜-2025' 'a b'
    """
    out = []
    for ch in value:
        if ch != " " and unicodedata.category(ch) in FORBIDDEN_CATEGORIES:
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "'" + "".join(out).replace("'", "\\'") + "'"


# -- the data: scripts and the confusables mapping ----------------------------------------------------------------


def _data(name: str) -> dict[str, Any]:
    """A data file of ``confusable-homoglyphs`` (a JSON object)."""
    data: dict[str, Any] = json.loads((resources.files("confusable_homoglyphs") / name).read_text(encoding="utf-8"))
    return data


@cache
def _scripts() -> tuple[list[int], list[int], list[str]]:
    """Range starts, range ends and script names of ``Scripts.txt`` (as ``confusable-homoglyphs`` ships it)."""
    data = _data("categories.json")
    names = data["iso_15924_aliases"]
    ranges = sorted(data["code_points_ranges"])
    return [r[0] for r in ranges], [r[1] for r in ranges], [names[r[2]] for r in ranges]


@cache
def _prototypes() -> dict[int, str]:
    """Unicode's confusables mapping (``confusables.txt``): each source character's prototype, closed so that a
    prototype is a fixed point of the skeleton (``%`` maps to ``º/₀``, whose compatibility form is ``o/0``, whose
    prototype is ``o/O``).

    ``confusable-homoglyphs`` ships the mapping as an undirected list of neighbours per character, written line by
    line from ``confusables.txt`` (a source, then its prototype): a prototype has every source of its group for
    neighbours, a source only its prototype, and a source always comes before its prototype in the file's order.
    """
    data = _data("confusables.json")
    order = {key: i for i, key in enumerate(data)}
    centres = {key for key, neighbours in data.items() if len(neighbours) > 1}
    direct: dict[str, str] = {}
    for key, neighbours in data.items():
        if len(key) != 1 or key in centres:
            continue
        target = neighbours[0]["c"]
        if len(target) > 1 or target in centres or order[key] < order[target]:
            direct[key] = target

    def fold(text: str) -> str:
        return unicodedata.normalize("NFD", "".join(direct.get(c, c) for c in _ignorable_free(
            unicodedata.normalize("NFKD", text))))

    closed = {}
    for source, target in direct.items():
        value = fold(target)
        for _ in range(8):  # a few rounds reach the fixed point
            again = fold(value)
            if again == value:
                break
            value = again
        closed[ord(source)] = value
    return closed


@cache
def _ascii_tables() -> tuple[bytes, tuple[tuple[str, str], ...]]:
    """The skeleton of each ASCII character that is not its own (``0`` is ``O``, ``1`` and ``I`` are ``l``, ``m`` is
    ``rn``), for the fast path of ASCII ids: a table of bytes for those of one character (``bytes.translate`` runs
    it in C), then the few whose skeleton is longer, as replacements (their skeletons hold none of the characters
    replaced)."""
    ascii_ = {code: value for code, value in _prototypes().items() if code < 128}
    one = bytearray(range(256))
    longer = []
    for code, value in ascii_.items():
        if len(value) == 1 and value.isascii():
            one[code] = ord(value)
        else:
            longer.append((chr(code), value))
    return bytes(one), tuple(longer)


def _is_default_ignorable(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or ord(char) in _DEFAULT_IGNORABLE_EXTRA


def _ignorable_free(text: str) -> str:
    return "".join(c for c in text if not _is_default_ignorable(c))


def _package_version() -> str:
    try:
        return metadata.version("confusable-homoglyphs")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed without metadata
        return "unknown"


RULES_VERSION = f"uts39-highly-restrictive; confusable-homoglyphs {_package_version()}; " \
                f"unicodedata {unicodedata.unidata_version}"
"""What the rules and skeletons are made with: skeletons stored under another version are made again."""


# -- the rules -------------------------------------------------------------------------------------------------------


def script_of(char: str) -> str:
    """The script of a character (``Scripts.txt``), e.g. ``LATIN``, ``HAN``, ``CYRILLIC``, ``COMMON``.

    >>> script_of("S"), script_of("Ѕ"), script_of("李"), script_of("-"), script_of("\\u0378")
    ('LATIN', 'CYRILLIC', 'HAN', 'COMMON', 'UNKNOWN')
    """
    starts, ends, names = _scripts()
    code = ord(char)
    i = bisect.bisect_right(starts, code) - 1
    return names[i] if i >= 0 and code <= ends[i] else "UNKNOWN"


def scripts_of(value: str) -> frozenset[str]:
    """The scripts of an id's characters, less Common and Inherited.

    >>> sorted(scripts_of("李娜-2025")), sorted(scripts_of("HNJX-2024")), sorted(scripts_of("Sа1"))
    (['HAN'], ['LATIN'], ['CYRILLIC', 'LATIN'])
    """
    if value.isascii():
        return frozenset({"LATIN"}) if any(c.isalpha() for c in value) else frozenset()
    return frozenset(script_of(c) for c in value) - COMMON_SCRIPTS


def _highly_restrictive(scripts: frozenset[str]) -> bool:
    return len(scripts) <= 1 or any(scripts <= allowed for allowed in HIGHLY_RESTRICTIVE)


def problems(value: str) -> list[Problem]:
    """What is wrong with ``value`` as a new id, by the rules of this module but the look-alike one (which needs the
    ids already in the ledger): an empty list for a canonical id. Each problem names the first character at fault.

    >>> problems(" S1")[0].message
    "' S1' begins with U+0020 SPACE"
    >>> problems("Ｓ1")[0].message
    "'Ｓ1' is not in normal form: U+FF33 FULLWIDTH LATIN CAPITAL LETTER S is 'S' in its compatibility form (NFKC: 'S1')"
    """
    if value.isascii() and value.isprintable() and value[:1] != " " and value[-1:] != " ":
        return []  # the fast path: printable ASCII holds no other space, is in every normal form and is Latin
    found: list[Problem] = []
    inside = value
    for char, where in ((value[:1], "begins"), (value[-1:], "ends")):
        if char and (char.isspace() or unicodedata.category(char) == "Zs"):
            found.append(Problem("id_surrounding_space", f"{shown(value)} {where} with {describe(char)}", char))
            inside = value[1:] if where == "begins" else value[:-1]  # the space is told once
            break
    for char in inside:
        category = unicodedata.category(char)
        if char != " " and category in FORBIDDEN_CATEGORIES:
            found.append(Problem("id_forbidden_character", f"{shown(value)} holds {describe(char)}, "
                                 f"{FORBIDDEN_CATEGORIES[category]}", char))
            break
    if not any(p.code == "id_forbidden_character" for p in found):
        normal = _normal_form_problem(value)
        if normal is not None and not (found and normal.char == found[0].char):  # (a no-break space at an end)
            found.append(normal)
    mixed = _mixed_script_problem(value)
    if mixed is not None:
        found.append(mixed)
    return found


def _mixed_script_problem(value: str) -> Problem | None:
    """Scripts beyond the highly restrictive level: names the first character whose script is one too many."""
    if _highly_restrictive(scripts_of(value)):
        return None
    seen: dict[str, str] = {}
    for char in value:
        script = script_of(char)
        if script in COMMON_SCRIPTS or script in seen:
            continue
        if not _highly_restrictive(frozenset(seen) | {script}):
            before = " and ".join(f"{s.title()} ({shown(c)})" for s, c in seen.items())
            return Problem("id_mixed_script", f"{shown(value)} mixes {describe(char)}, of the {script.title()} "
                           f"script, with {before}; an id keeps to one script, or to Latin with Han and Kana, with "
                           "Han and Bopomofo, or with Han and Hangul (digits and punctuation go with any)", char)
        seen[script] = char
    return None  # pragma: no cover - a set that fails has a first member that makes it fail


def _normal_form_problem(value: str) -> Problem | None:
    """Not NFC, or not NFKC: names the first character at which the id stops being in that form."""
    forms: tuple[tuple[Literal["NFC", "NFKC"], str], ...] = (("NFC", "canonical form (NFC"),
                                                              ("NFKC", "compatibility form (NFKC"))
    for form, what in forms:
        if unicodedata.is_normalized(form, value):
            continue
        normal = unicodedata.normalize(form, value)
        at = next(i for i in range(1, len(value) + 1) if not unicodedata.is_normalized(form, value[:i])) - 1
        char = value[at]
        alone = unicodedata.normalize(form, char)
        change = (f"is {shown(alone)}" if alone != char else "composes with the character before it")
        return Problem("id_not_normalized", f"{shown(value)} is not in normal form: {describe(char)} {change} in its "
                       f"{what}: {shown(normal)})", char)
    return None


def is_canonical(value: str) -> bool:
    """True when ``value`` breaks none of the rules of ``problems``.

    >>> is_canonical("HNJX-2024-0317"), is_canonical("S1\\u00a0")
    (True, False)
    """
    return not problems(value)


def skeleton(value: str) -> str:
    """UTS #39's skeleton of ``value``, after compatibility decomposition: two ids a reader cannot tell apart have
    the same skeleton (``skeleton(skeleton(x)) == skeleton(x)``). Spaces a reader cannot count are not told apart
    either: the skeleton has no surrounding space, and one space for a run of them.

    >>> skeleton("S1") == skeleton("Ѕ1") == skeleton("Ｓ1") == skeleton("S1\u200b") == skeleton(" S1\u00a0")
    True
    >>> skeleton("HNJX-2024-0317"), skeleton("李娜-2025"), skeleton("a  b")
    ('HNJX-2O24-O3l7', '李娜-2O25', 'a b')
    """
    if value.isascii():
        one, longer = _ascii_tables()
        if not value.isprintable() or value[:1] == " " or value[-1:] == " " or "  " in value:
            value = " ".join(value.split())
        value = value.encode("ascii").translate(one).decode("ascii")
        for char, replacement in longer:
            if char in value:
                value = value.replace(char, replacement)
        return value
    table = _prototypes()
    text = unicodedata.normalize("NFD", _ignorable_free(unicodedata.normalize("NFKD", value)).translate(table))
    return " ".join(text.split())


KEY_CHARS = 160
"""The longest ``skeleton_key``: a skeleton up to ``KEY_CHARS - 40`` characters is its own key."""


def skeleton_key(value: str) -> str:
    """The key of ``skeleton(value)`` in an index of stored ids: the skeleton itself, or for a long one (a skeleton can
    be many times longer than its id) ``#`` and 32 hex digits of its BLAKE2b hash; at most ``KEY_CHARS`` characters.

    >>> skeleton_key("S1") == skeleton_key("Ѕ1") == "Sl", len(skeleton_key("\ufdfa" * 8))
    (True, 33)
    """
    found = skeleton(value)
    if len(found) <= KEY_CHARS - 40:
        return found
    return "#" + hashlib.blake2b(found.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def imitations(value: str, existing: str) -> str:
    """The characters of ``value`` that are not in ``existing``, each named with what it imitates: the sentence part
    of a look-alike refusal.

    >>> imitations("Ѕ1", "S1")
    "U+0405 CYRILLIC CAPITAL LETTER DZE imitates 'S'"
    >>> imitations("S-0O1", "S-001")
    "U+004F LATIN CAPITAL LETTER O imitates '0'"
    """
    parts = []
    if len(value) == len(existing):  # side by side: each character that differs, with the one it stands for
        pairs = dict.fromkeys((a, b) for a, b in zip(value, existing, strict=True) if a != b)
        for a, b in pairs:
            parts.append(f"{describe(a)} imitates {shown(b)}" if skeleton(a) == skeleton(b) else
                         f"{describe(a)} looks like {shown(skeleton(a))}")
        return "; ".join(parts) if parts else "they differ only in characters that look the same"
    for char in dict.fromkeys(value):
        if char in existing:
            continue
        target = next((c for c in existing if skeleton(c) == skeleton(char) and c != char), None)
        if not skeleton(char).strip():
            parts.append(f"{describe(char)} is invisible")
        elif target is not None:
            parts.append(f"{describe(char)} imitates {shown(target)}")
        else:
            parts.append(f"{describe(char)} looks like {shown(skeleton(char))}")
    return "; ".join(parts) if parts else "they differ only in characters that look the same"
