"""How large and how deep a scenario may be: numbers beyond the largest float and lists nested past any
real scenario's depth are refused at their place, before Python's own limits turn them into internal
errors (a 5,000-digit integer, a RecursionError)."""

from __future__ import annotations

import math
import re
import sys
import tomllib
from collections.abc import Iterator
from typing import Any

MAX_DEPTH = 32  # a scenario nests about six levels; far deeper documents would exhaust Python's stack later
TOO_DEEP = (f"lists or tables are nested more than {MAX_DEPTH} deep",
            "a scenario nests a few levels at most: check the brackets")


class InputTooLarge(ValueError):
    """A value no scenario holds: brackets nested too deep, or an integer beyond the largest float
    (``digits``: how many digits it has). The message says which, ``fix`` what to do."""

    def __init__(self, message: str, fix: str, digits: int | None = None):
        super().__init__(message)
        self.fix = fix
        self.digits = digits


MOST_DIGITS = 309
"""The most digits a whole number the optimizer can compute with has (the largest float is about 1.8e308)."""


def too_many_digits(digits: int) -> InputTooLarge:
    """The error for an integer of ``digits`` digits, beyond the largest float (about 1.8e308)."""
    return InputTooLarge(f"a number with {digits:,} digits, beyond the largest the optimizer can compute with "
                         "(about 1.8e308)", "check the value: no budget, volume or curve parameter needs more "
                         "than 15 digits", digits)


def check_limits(value: Any) -> None:
    """Raise ``InputTooLarge`` when ``value`` (as parsed from TOML or JSON) nests lists or tables more
    than ``MAX_DEPTH`` deep or holds an integer beyond the largest float (no float, so no model, holds it)."""
    if _depth(value) > MAX_DEPTH:
        raise InputTooLarge(*TOO_DEEP)
    for item in _values(value):
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > sys.float_info.max:
            raise too_many_digits(digit_count(item))


def digit_count(number: int) -> int:
    """How many decimal digits ``number`` has (also past Python's 4,300-digit limit on writing it)."""
    try:
        return len(str(abs(number)))
    except ValueError:
        return int(abs(number).bit_length() * math.log10(2)) + 1


def json_int(text: str) -> int:
    """A JSON integer (``json.loads(parse_int=...)``); ``InputTooLarge`` beyond the largest float."""
    digits = text.lstrip("-")
    if _beyond_float(digits, 10):
        raise too_many_digits(len(digits))
    return int(text)


def parse_limited_toml(text: str) -> Any:
    """``tomllib.loads(text)``, with ``InputTooLarge`` for what ``check_limits`` refuses and for integers
    longer than Python reads (4,300 digits), which tomllib lets through as a bare ``ValueError``."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise  # a ValueError too, but a syntax error: the caller locates it
    except RecursionError:
        raise InputTooLarge(*TOO_DEEP) from None
    except ValueError:
        found = long_number_at(text)
        if found is None:
            raise
        raise too_many_digits(found[1]) from None
    check_limits(document)
    return document


_SKIPPED = r'"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*'
"""Quoted text and comments, where digits and brackets are not the document's own."""
_NUMBER_OR_SKIPPED = re.compile(_SKIPPED + r"|0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*")
_BRACKET_OR_SKIPPED = re.compile(_SKIPPED + r"|[\[{]|[\]}]")
_BASES = {"x": 16, "o": 8, "b": 2}


def long_number_at(text: str) -> tuple[int, int] | None:
    """Where the first integer beyond the largest float starts in ``text`` (skipping quoted text and
    comments), and how many digits it has; None when there is none."""
    for match in _NUMBER_OR_SKIPPED.finditer(text):
        token = match[0].replace("_", "")
        if token[0] in "\"'#":
            continue
        base = _BASES.get(token[1:2].lower(), 10)
        digits = token if base == 10 else token[2:]
        if _beyond_float(digits, base):
            return match.start(), len(digits)
    return None


def _beyond_float(digits: str, base: int) -> bool:
    significant = digits.lstrip("0")
    if base == 10 and len(significant) > MOST_DIGITS:
        return True  # and int() would refuse more than 4,300 digits
    return bool(significant) and int(significant, base) > sys.float_info.max


def too_deep_at(text: str) -> int:
    """The position of the first bracket nested deeper than ``MAX_DEPTH``, skipping quoted text."""
    depth = 0
    for match in _BRACKET_OR_SKIPPED.finditer(text):
        token = match[0]
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        elif token in "]}":
            depth -= 1
    return 0


def _depth(value: Any) -> int:
    """How deep lists and tables nest in ``value``, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        deepest = max(deepest, depth - (not isinstance(item, dict | list)))
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _values(value: Any) -> Iterator[Any]:
    """Every value in nested lists and tables, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
