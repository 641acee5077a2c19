"""Reading scenario documents: TOML and JSON files, and the files they point to.

Scenario files are data, never code. A file may point to CSV files (campaigns, simulator
points) only inside its own folder: scenarios come from clients, and a file must never make
the tool read elsewhere. Paths the user types on the command line are not restricted.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import math
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from optimizer.errors import Problem, ScenarioError, shortened
from optimizer.scenario.checks import suggest
from optimizer.scenario.limits import (
    TOO_DEEP,
    InputTooLarge,
    check_limits,
    json_int,
    long_number_at,
    parse_limited_toml,
    too_deep_at,
)
from optimizer.scenario.reads import note_read


def read_document(path: Path) -> dict[str, Any]:
    """The scenario at ``path`` as a dict; TOML or JSON by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ScenarioError(
            [Problem(str(path), f'unknown scenario format "{suffix or "(none)"}"', "use a .toml or .json file")]
        )
    if path.is_dir():
        raise ScenarioError([Problem(str(path), "this is a folder, not a scenario file",
                                     "give the path of a .toml or .json file")])
    if leads_back(path):
        raise ScenarioError([Problem(str(path), f"the file {LINK_LOOP[0]}", LINK_LOOP[1])])
    if not path.exists():
        raise ScenarioError([Problem(str(path), "file not found", "check the path")])
    try:
        text = read_text(path, str(path))
    except ScenarioError as error:
        raise ScenarioError(error.problems, str(path)) from None
    return parse_document(text, "json" if suffix == ".json" else "toml", str(path))


def parse_json_text(text: str | bytes, source: str) -> dict[str, Any]:
    """A scenario sent as JSON text (by a program, or on stdin); bytes are read as UTF-8.

    Empty input and a TOML scenario are refused with what to send instead.
    """
    if isinstance(text, bytes):
        text = _decoded(text, source)
    if not text.strip():
        raise ScenarioError([Problem("", "the input is empty: no scenario was sent",
                                     "send the scenario as one JSON object { ... }")], source)
    try:
        return parse_document(text, "json", source)
    except ScenarioError:
        if not _reads_as_toml(text):
            raise
    raise ScenarioError([Problem("", "this is TOML, but a scenario sent as text must be JSON",
                                 "convert it to JSON (tradeoff schema scenario describes it), "
                                 "or give the .toml file's path instead")], source)


def _decoded(data: bytes, source: str) -> str:
    """UTF-8 text (a byte order mark is allowed; UTF-16 with one is read too, UTF-16 without one refused)."""
    return decode_text(data, "the input", "", "send the JSON as UTF-8", utf16=True, source=source)


def decode_text(data: bytes, subject: str, place: str, fix: str, utf16: bool = False, source: str = "") -> str:
    """``data`` as UTF-8 text (a byte order mark is allowed) or, with ``utf16``, UTF-16 with its byte
    order mark; anything else is a problem about ``subject`` ("the file") at ``place`` (its name).

    A workbook (.xlsx, .xls) and UTF-32 text are named as such, with how to save them as text.
    """
    workbook = _workbook(data)
    if workbook is not None:
        raise ScenarioError([Problem(place or "line 1", f"{subject} is {workbook}, not text",
                                     "open it in Excel and save it as CSV UTF-8 (File > Save As > CSV UTF-8), "
                                     "then give that file")], source)
    if _utf32(data):
        raise ScenarioError([Problem(place or "line 1", f"{subject} is UTF-32 text, not UTF-8", fix)], source)
    found = _utf16(data)
    if found and not (utf16 and found == "marked"):
        detail = " without a byte order mark" if utf16 and found == "no mark" else ""
        raise ScenarioError([Problem(place or "line 1", f"{subject} is UTF-16 text{detail}, not UTF-8", fix)], source)
    try:
        return data.decode("utf-16" if found else "utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        kind = "UTF-16" if found else "UTF-8"
        raise ScenarioError([Problem(f"{place} line {line}".strip(), f"{subject} is not {kind} text (byte "
                                     f"0x{data[error.start]:02x} cannot be read)", fix)], source) from None


def _reads_as_toml(text: str) -> bool:
    try:
        return bool(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        return False


def read_text(path: Path, where: str, utf16: bool = False) -> str:
    """The text of a UTF-8 file (a byte order mark is allowed); unreadable files are reported at ``where``.

    ``utf16``: UTF-16 with its byte order mark is read too (ad platforms' exports for Excel).
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ScenarioError([Problem(where, f'"{path.name}" {LINK_LOOP[0]}', LINK_LOOP[1])]) from None
        raise ScenarioError([Problem(where, f"cannot read the file: {error.strerror or error}",
                                     "check the path and the file's permissions")]) from None
    note_read(path)
    return decode_text(data, "the file", path.name, _save_as_utf8(path), utf16)


LINK_LOOP = ("is a symbolic link that leads back to itself",
              "point the link at the real file, or give the real file's name instead")
"""What to say of a link that leads back to itself (after its name), and the fix."""


def leads_back(path: Path) -> bool:
    """Whether ``path`` is a symbolic link that leads back to itself (directly or through other links)."""
    try:
        path.stat()
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


_WORKBOOKS = ((b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
              (bytes.fromhex("D0CF11E0A1B11AE1"), "an Excel workbook in the old .xls format (Excel 97-2003)"))


def _workbook(data: bytes) -> str | None:
    """What kind of workbook ``data`` is, told by its first bytes, or None."""
    return next((kind for magic, kind in _WORKBOOKS if data.startswith(magic)), None)


def _utf32(data: bytes) -> bool:
    """UTF-32 text, with a byte order mark or without one (then told by three NUL bytes of every four,
    as ASCII and Latin text has them: UTF-16 has one of every two)."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return True
    head = data[:400]
    little = not any(head[2::4]) and not any(head[3::4])
    big = not any(head[0::4]) and not any(head[1::4])
    return len(head) >= 8 and (little or big)


def _utf16(data: bytes) -> str | None:
    """``marked`` for UTF-16 text with a byte order mark, ``no mark`` for UTF-16 without one (told by its
    NUL bytes, which no UTF-8 scenario, CSV or JSON holds: ASCII takes two bytes, one of them NUL), else None."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "marked"
    head = data[:200]
    return "no mark" if head.count(b"\x00") > min(10, len(head) // 4) else None


def _save_as_utf8(path: Path) -> str:
    if path.suffix.lower() == ".csv":
        return "save the file as UTF-8 (in Excel: Save As, CSV UTF-8)"
    return "save the file as UTF-8 (in a text editor: Save with Encoding, UTF-8)"


def parse_document(text: str, kind: str, source: str) -> dict[str, Any]:
    """Parse TOML or JSON text; syntax errors are reported with their line and column, and so are
    brackets nested more than ``MAX_DEPTH`` deep and integers beyond the largest float."""
    try:
        document = _parse_json(text, source) if kind == "json" else _parse_toml(text, source)
    except RecursionError:
        raise ScenarioError([Problem(_place(text, too_deep_at(text)), *TOO_DEEP)], source) from None
    except InputTooLarge as error:
        if error.digits is None:
            raise ScenarioError([Problem(_place(text, too_deep_at(text)), str(error), error.fix)], source) from None
        found = long_number_at(text)
        raise ScenarioError([Problem(_place(text, found[0] if found else 0), str(error), error.fix)], source) from None
    if not isinstance(document, dict):
        raise ScenarioError([Problem("line 1, column 1", "the document must be a table (a JSON object)",
                                     "wrap it in { }")], source)
    return document


def _parse_json(text: str, source: str) -> Any:
    repeated: list[bool] = []  # set by any object with a key twice
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_int=json_int,
                              object_pairs_hook=lambda pairs: _object_noting_repeats(pairs, repeated))
    except json.JSONDecodeError as error:
        message, fix = _json_hint(error)
        raise ScenarioError([Problem(f"line {error.lineno}, column {error.colno}", message, fix)], source) from None
    except InputTooLarge:
        raise
    except ValueError as error:
        name = str(error).split()[0]
        raise ScenarioError([Problem(_place(text, _constant_position(text, name)), str(error),
                                     "write a number, or leave the key out")], source) from None
    if repeated:
        raise ScenarioError([Problem(_place(text, position), f'the key "{key}" appears twice in the same object '
                                     "(JSON keeps only the last)", "keep one of them")
                             for key, position in _repeated_keys(text)], source)
    check_limits(document)
    return document


def _object_noting_repeats(pairs: list[tuple[str, Any]], repeated: list[bool]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        repeated.append(True)  # which keys, and where, _repeated_keys finds for the message
    return obj


def _repeated_keys(text: str) -> list[tuple[str, int]]:
    """Each key that repeats within its object, and where the repeat starts (JSON that parses)."""
    found, objects, position = [], [], 0  # objects: the keys seen so far in each open object
    while position < len(text):
        character = text[position]
        if character == '"':
            end = _string_end(text, position)
            after = text[end:].lstrip()
            if objects and objects[-1] is not None and after.startswith(":"):
                key = json.loads(text[position:end])
                if key in objects[-1]:
                    found.append((key, position))
                objects[-1].add(key)
            position = end
            continue
        if character in "{[":
            objects.append(set() if character == "{" else None)
        elif character in "}]":
            objects.pop()
        position += 1
    return found


def _string_end(text: str, start: int) -> int:
    """The position just after the JSON string that opens at ``start``."""
    position = start + 1
    while text[position] != '"':
        position += 2 if text[position] == "\\" else 1
    return position + 1


def _parse_toml(text: str, source: str) -> Any:
    try:
        return parse_limited_toml(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        place = re.search(r"\(at (?:line (\d+), column (\d+)|end of document)\)", message)
        if place is None:
            location = ""
        elif place[1]:
            location = f"line {place[1]}, column {place[2]}"
        else:
            location = _place(text, len(text.rstrip()))
        message = message[: place.start()].strip() if place else message
        hint, fix = _toml_hint(message)
        raise ScenarioError([Problem(location, f"invalid TOML: {message}{hint}", fix)], source) from None


_TOML_HINTS = {
    "Invalid value": ("", 'write a number, "text" in double quotes, true, false, [a list] or { a table }'),
    "Cannot overwrite a value": (": a key is given twice", "keep one of them"),
    "Cannot declare": (": the table is declared twice", "merge the two tables into one"),
    "Unterminated string": ("", "close the string with a quote on the same line"),
    'Expected "\'"': (": a string is not closed", "close the string with a quote on the same line"),
    "Unclosed array": ("", "close the list with ]"),
    "Unclosed inline table": ("", "close the table with } on the same line (an inline table fits on one line)"),
    "Expected ']'": ("", "close the bracket: [name] (or [[name]] for a list of tables)"),
    "Expected newline or end of document": (
        "", "write one key = value per line, and numbers without thousands commas (100_000 or 100000)"),
    "Invalid initial character for a key part": (
        "", "write a key here; an inline table { ... } has no comma after its last item"),
    "Invalid statement": ("", "write key = value"),
    "Illegal character '\\n'": (": a string is not closed before the end of the line",
                                 "close the string with a quote on the same line"),
    "Illegal character": ("", "remove the character, or put the text in double quotes"),
}


def _toml_hint(message: str) -> tuple[str, str]:
    for start, hint in _TOML_HINTS.items():
        if message.startswith(start):
            return hint
    return "", "fix the syntax at that place"


def _json_hint(error: json.JSONDecodeError) -> tuple[str, str]:
    text, pos = error.doc, error.pos
    here = text[pos: pos + 1]
    before = text[:pos].rstrip()[-1:]
    if here == "'":
        return "invalid JSON: strings and keys take double quotes, not single ones", 'write "..." in double quotes'
    if before == "," and here in ("}", "]"):
        return f"invalid JSON: a comma before '{here}'", "remove the comma after the last item (JSON allows none)"
    hints = {
        "Expecting value": ("a value is missing or is not JSON",
                            'write a number, "text", true, false, null, [ ... ] or { ... }'),
        "Expecting property name enclosed in double quotes": ("a key is missing or not in double quotes",
                                                              'write keys in double quotes: "name"'),
        "Expecting ',' delimiter": ("a comma is missing between two items", "add a comma after the previous item"),
        "Expecting ':' delimiter": ("a colon is missing after a key", 'write "key": value'),
        "Unterminated string": ("a string is not closed", "close the string with a double quote"),
        "Extra data": ("there is more text after the end of the document", "remove it, or wrap everything in one { }"),
    }
    for start, (message, fix) in hints.items():
        if error.msg.startswith(start):
            return f"invalid JSON: {message}", fix
    return f"invalid JSON: {error.msg}", "fix the syntax at that place"


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a scenario")


def _constant_position(text: str, name: str) -> int:
    """Where ``name`` (NaN, Infinity, -Infinity) first appears outside a JSON string."""
    for match in re.finditer(r'"(?:\\.|[^"\\])*"|(-?Infinity|NaN)', text):
        if match[1] == name:
            return match.start(1)
    return 0


def _place(text: str, position: int) -> str:
    """``line L, column C`` of a character position in ``text``."""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}"


def resolve_inside(folder: Path, relative: str, what: str) -> Path:
    """``folder / relative``, refusing absolute paths and paths that leave ``folder``."""
    if "\x00" in relative:
        raise ScenarioError([Problem(what, "the file name holds a NUL character", "write the file's name as text")])
    candidate = Path(relative)
    if leads_back(folder / candidate):
        raise ScenarioError([Problem(what, f'"{shortened(relative)}" {LINK_LOOP[0]}', LINK_LOOP[1])])
    try:
        resolved = (folder / candidate).resolve()
        found = resolved.is_file()
    except (OSError, RuntimeError) as error:  # a name too long for the file system; Python 3.11's link loops
        raise ScenarioError([Problem(what, f'cannot open "{shortened(relative)}": {error.strerror or error}',
                                     "give the name of a file beside the scenario")]) from None
    if candidate.is_absolute() or not resolved.is_relative_to(folder.resolve()):
        raise ScenarioError([
            Problem(
                what,
                f'"{relative}" is outside the scenario\'s folder (a scenario may only read files in its own '
                "folder or below it)",
                "put the file beside the scenario (or in a folder below it) and give its relative path",
            )
        ])
    if resolved.is_dir():
        raise ScenarioError([Problem(what, f'"{relative}" is a folder, not a file',
                                     "give the name of a file (its path from the scenario's folder)")])
    if not found:
        near = _nearby_files(resolved)
        raise ScenarioError([Problem(
            what,
            f'file "{relative}" not found in {folder}{suggest(candidate.name, near, cutoff=_FILE_NAME_CUTOFF)}',
            "check the name" + (f" (files there: {', '.join(sorted(near)[:8])})" if near else ""),
        )])
    return resolved


_FILE_NAME_CUTOFF = 0.85  # file names share suffixes (".points.csv"), so only near-identical names are suggested


def _nearby_files(path: Path) -> list[str]:
    """The names of files beside ``path`` with the same suffix."""
    try:
        return [p.name for p in path.parent.iterdir() if p.is_file() and p.suffix.lower() == path.suffix.lower()]
    except OSError:
        return []


def csv_header(reader: csv.DictReader, name: str) -> list[str]:
    """The header of a ``csv.DictReader`` over the file ``name``; an unreadable one is a located problem."""
    try:
        return list(reader.fieldnames or [])
    except csv.Error as error:
        raise ScenarioError([_unreadable_row(error, name, reader.line_num)]) from None


def csv_records(reader: Any, name: str) -> Iterator[Any]:
    """Each record of a ``csv.reader`` or ``csv.DictReader`` over the file ``name``; one the csv module
    cannot read (a cell over its size limit, as an unclosed quote makes) is a problem at the line it starts on."""
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ScenarioError([_unreadable_row(error, name, start)]) from None
        yield record


def _unreadable_row(error: csv.Error, name: str, line: int) -> Problem:
    where = f"{name} line {max(line, 1)}"
    if "field larger than field limit" in str(error):
        return Problem(where, f"a cell holds more than {csv.field_size_limit():,} characters",
                       "a cell holds a name, a number or a short list: look for a quote (\") opened at this line "
                       "and never closed, which runs the rest of the file into one cell")
    return Problem(where, f"the row cannot be read as CSV ({error})", "save the file again as CSV UTF-8")


def read_points(path: Path, what: str) -> list[list[float]]:
    """Simulator points ``[spend, outcome]`` from a two-column CSV (a header row is optional)."""
    return read_points_with_lines(path, what)[0]


def read_points_with_lines(path: Path, what: str) -> tuple[list[list[float]], list[int]]:
    """The points of a points CSV and the line each came from."""
    points: list[list[float]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    text = read_text(path, what)
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in csv_records(reader, path.name):
        line = reader.line_num
        cells = [c.strip() for c in row if c.strip()]
        if not cells:
            continue
        numbers = [_number(c) for c in cells]
        if line == 1 and any(n is None for n in numbers):
            continue
        if len(cells) != 2 or any(n is None or not math.isfinite(n) for n in numbers):
            shown = ",".join(row)
            shown = shortened(shown)
            problems.append(Problem(
                f"{path.name} line {line}",
                f'expected two finite numbers (spend, outcome), got "{shown}" (the points of {what})',
                "write one spend,outcome pair of numbers per line",
            ))
            continue
        points.append([float(n) for n in numbers])  # type: ignore[arg-type]
        lines.append(line)
    if problems:
        raise ScenarioError(problems, what)
    return points, lines


def _number(text: str) -> float | None:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None
