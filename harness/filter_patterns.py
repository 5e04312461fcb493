"""CloudWatch Logs filter patterns, as AWS's "Filter pattern syntax for metric filters, subscription
filters, filter log events, and Live Tail" defines them: the one evaluator of the project, used by the
emulator's FilterLogEvents and subscription filters (patch ``log_filter_patterns``) and by
``harness logs --filter`` (harness/stack/logs.py), which checks a pattern before it asks. At the bottom
of the harness (standard library only), so both may import it and the CLI pays nothing for it.

Four forms, all case-sensitive:

- Terms: ``ERROR Exception`` (every term), ``"a phrase"``, ``-Exiting`` (not this one), ``?ERROR ?WARN``
  (any group: a ``?`` starts a group of terms that must all appear, as the CDK's ``anyTermGroup``
  writes them). A term is found anywhere in the message (``ERROR`` finds ``ERRORCODE``); an unquoted
  term is letters, digits and underscores only.
- JSON: ``{ $.level = "ERROR" && $.latency > 500 }`` on messages that are JSON objects: ``=`` and ``!=``
  (strings, with ``*`` at either end a wildcard), ``<``, ``<=``, ``>``, ``>=`` (numbers), ``IS NULL``,
  ``IS TRUE``/``IS FALSE``, ``EXISTS``/``NOT EXISTS``, ``&&`` before ``||``, parentheses. A selector that
  names an object or an array matches no comparison.
- Space-delimited: ``[ip, user, ..., status_code = 4* && status_code != 403, bytes > 1000]``: the message
  split at spaces (``"..."`` and ``[...]`` one field each), as many fields as named (``...`` any
  number, once), each condition on the field it names.
- Regular expressions between ``%`` signs: the whole pattern (``%AUTHORIZED%``), or the value a JSON or
  space-delimited condition compares with (``{ $.eventName = %Trail$% }``), found anywhere in the text;
  only the characters AWS lists (letters, digits, ``' # = @ ; , -`` and ``^ $ ? [ ] { } | \\ * + .``).

A pattern CloudWatch refuses raises FilterPatternError carrying CloudWatch's InvalidParameterException
message: ``Invalid character(s) in term '<characters>'`` for a character a term may not hold, ``Invalid
filter pattern`` for a pattern that does not parse.
"""

from __future__ import annotations

import functools
import json
import math
import operator as operators
import re
from collections.abc import Callable
from dataclasses import dataclass

Matcher = Callable[[str], bool]
# Distinct patterns kept compiled: a reader sends one per call, a subscription filter one for good.
COMPILED_PATTERNS = 256
INVALID_PATTERN = "Invalid filter pattern"

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
_NAME = re.compile(r"[A-Za-z0-9_-]+")  # a JSON property or a space-delimited field name
_INDEX = re.compile(r"\[(\d+)\]")  # an array element: [0]
_VALUE_CHARACTERS = re.compile(r"[\w.*+-]+")  # an unquoted value: 123.123.*, 4*, +1000, 10e-3
_REGEX_CHARACTERS = frozenset("'#=@;,-^$?[]{}|\\*+.")  # and ASCII letters and digits
_COMPARISONS = ("!=", "<=", ">=", "=", "<", ">")  # longest first
_NUMERIC = {"<": operators.lt, "<=": operators.le, ">": operators.gt, ">=": operators.ge}


class FilterPatternError(ValueError):
    """A pattern CloudWatch Logs refuses; the message is its InvalidParameterException's."""


def _invalid_characters(characters: str) -> FilterPatternError:
    return FilterPatternError(f"Invalid character(s) in term '{characters}'")


@functools.lru_cache(maxsize=COMPILED_PATTERNS)
def matcher(pattern: str) -> Matcher:
    """The function telling whether a message matches ``pattern``; FilterPatternError if it is invalid."""
    text = pattern.strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        return _JsonParser(text).pattern()
    if text.startswith("["):
        return _delimited_pattern(text)
    if text.startswith("%"):
        if len(text) < 2 or not text.endswith("%"):
            raise FilterPatternError(INVALID_PATTERN)
        expression = _regex(text[1:-1])
        return lambda message: expression.search(message) is not None
    return _term_pattern(text)


def _regex(body: str) -> re.Pattern:
    """A regular expression of AWS's supported syntax: no parentheses, no multi-byte characters."""
    allowed = [
        (character.isascii() and character.isalnum()) or character in _REGEX_CHARACTERS for character in body
    ]
    if not body or "%" in body:
        raise FilterPatternError(INVALID_PATTERN)
    if not all(allowed):
        raise _invalid_characters(body[allowed.index(False)])
    try:
        return re.compile(body)
    except re.error:
        raise FilterPatternError(INVALID_PATTERN) from None


# --- terms ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    text: str
    excluded: bool

    def holds(self, message: str) -> bool:
        return (self.text in message) != self.excluded


def _term_pattern(text: str) -> Matcher:
    groups: list[list[_Term]] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        prefix = text[position]
        if prefix in "?-":
            position += 1
            while position < len(text) and text[position].isspace():  # `"ERROR" - "Exiting"`
                position += 1
            if position == len(text):
                raise FilterPatternError(INVALID_PATTERN)
        if prefix == "?" or not groups:
            groups.append([])
        if text[position] == '"':
            term, position = _quoted(text, position)
        else:
            end = position
            while end < len(text) and not text[end].isspace():
                end += 1
            term = _bare_term(text[position:end])
            position = end
        if prefix == "-" or term.strip():  # `" "` alone matches every event
            groups[-1].append(_Term(term, excluded=prefix == "-"))
    return lambda message: any(all(term.holds(message) for term in group) for group in groups)


def _bare_term(term: str) -> str:
    """An unquoted term: letters, digits and underscores (AWS: anything else must be in quotes)."""
    bad = next((i for i, character in enumerate(term) if not (character.isalnum() or character == "_")), None)
    if bad is None:
        return term
    end = bad
    while end < len(term) and not (term[end].isalnum() or term[end] == "_"):
        end += 1
    raise _invalid_characters(term[bad:end])


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The string quoted at ``text[start]`` (``\\"`` and ``\\\\`` escaped) and the position after it."""
    characters = []
    position = start + 1
    while position < len(text):
        character = text[position]
        if character == "\\" and position + 1 < len(text):
            characters.append(text[position + 1])
            position += 2
        elif character == '"':
            return "".join(characters), position + 1
        else:
            characters.append(character)
            position += 1
    raise FilterPatternError(INVALID_PATTERN)  # no closing quote


# --- values compared by JSON and space-delimited patterns ---------------------------------------------


@dataclass(frozen=True)
class _Value:
    """The right side of a comparison: a string (``*`` at either end a wildcard), a number or a regular
    expression."""

    text: str
    number: float | None
    expression: re.Pattern | None = None

    def equals(self, found: str) -> bool:
        if self.expression is not None:
            return self.expression.search(found) is not None
        found_number = _number(found) if self.number is not None else None
        if found_number is not None:
            return found_number == self.number
        return _wildcard_equals(self.text, found)

    def compare(self, operator: str, found: str | None) -> bool:
        if found is None:
            return False
        if operator == "=":
            return self.equals(found)
        if operator == "!=":
            return not self.equals(found)
        value = _number(found)
        return value is not None and self.number is not None and _NUMERIC[operator](value, self.number)


def _wildcard_equals(expected: str, found: str) -> bool:
    """AWS: ``*Event`` matches PutEvent, ``Event*`` EventId, ``Ev*ent`` only the string ``Ev*ent``."""
    if expected == "*":
        return True
    core = expected.removeprefix("*").removesuffix("*")
    if expected.startswith("*") and expected.endswith("*"):
        return core in found
    if expected.startswith("*"):
        return found.endswith(core)
    if expected.endswith("*"):
        return found.startswith(core)
    return found == expected


def _number(text: str) -> float | None:
    if not _NUMBER.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


class _Lexer:
    """Shared scanning of JSON and space-delimited patterns: values, names, operators."""

    def __init__(self, text: str):
        self.text = text
        self.position = 0

    def skip_space(self) -> None:
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def peek(self, token: str) -> bool:
        self.skip_space()
        return self.text.startswith(token, self.position)

    def take(self, token: str) -> bool:
        if self.peek(token):
            self.position += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.take(token):
            raise FilterPatternError(INVALID_PATTERN)

    def at_end(self) -> bool:
        self.skip_space()
        return self.position >= len(self.text)

    def operator(self) -> str | None:
        for operator in _COMPARISONS:
            if self.take(operator):
                return operator
        return None

    def name(self) -> str:
        self.skip_space()
        found = _NAME.match(self.text, self.position)
        if not found:
            raise self.bad_character()
        self.position = found.end()
        return found.group()

    def value(self, operator: str) -> _Value:
        self.skip_space()
        if self.peek("%"):
            end = self.text.find("%", self.position + 1)
            if end == -1 or operator in _NUMERIC:
                raise FilterPatternError(INVALID_PATTERN)
            body, self.position = self.text[self.position + 1 : end], end + 1
            return _Value(body, None, _regex(body))
        if self.peek('"'):
            text, self.position = _quoted(self.text, self.position)
            quoted = True
        else:
            found = _VALUE_CHARACTERS.match(self.text, self.position)
            if not found:
                raise self.bad_character()
            text, self.position, quoted = found.group(), found.end(), False
        number = None if quoted else _number(text)
        if operator in _NUMERIC and number is None:
            raise FilterPatternError(INVALID_PATTERN)
        return _Value(text, number)

    def bad_character(self) -> FilterPatternError:
        if self.position >= len(self.text) or self.text[self.position] in "})],&|":
            return FilterPatternError(INVALID_PATTERN)  # something missing, not something wrong
        return _invalid_characters(self.text[self.position])


# --- JSON -------------------------------------------------------------------------------------------

_MISSING = object()


class _JsonParser:
    """``{ a || b && (c) }``: ``||`` of ``&&`` of conditions, parentheses first (AWS: () > && > ||)."""

    def __init__(self, text: str):
        if not text.endswith("}"):
            raise FilterPatternError(INVALID_PATTERN)
        self.lexer = _Lexer(text[1:-1])

    def pattern(self) -> Matcher:
        condition = self.either()
        if not self.lexer.at_end():
            raise self.lexer.bad_character()

        def matches(message: str) -> bool:
            try:
                document = json.loads(message)
            except ValueError:
                return False
            return isinstance(document, dict) and condition(document)

        return matches

    def either(self) -> Callable[[object], bool]:
        options = [self.both()]
        while self.lexer.take("||"):
            options.append(self.both())
        return options[0] if len(options) == 1 else lambda document: any(o(document) for o in options)

    def both(self) -> Callable[[object], bool]:
        parts = [self.condition()]
        while self.lexer.take("&&"):
            parts.append(self.condition())
        return parts[0] if len(parts) == 1 else lambda document: all(p(document) for p in parts)

    def condition(self) -> Callable[[object], bool]:
        if self.lexer.take("("):
            inner = self.either()
            self.lexer.expect(")")
            return inner
        path = self.selector()
        if self.lexer.take("IS"):
            for word, wanted in (("NULL", None), ("TRUE", True), ("FALSE", False)):
                if self.lexer.take(word):
                    return lambda document: _resolve(document, path) is wanted
            raise FilterPatternError(INVALID_PATTERN)
        if self.lexer.take("NOT"):
            self.lexer.expect("EXISTS")
            return lambda document: _resolve(document, path) is _MISSING
        if self.lexer.take("EXISTS"):
            return lambda document: _resolve(document, path) is not _MISSING
        operator = self.lexer.operator()
        if operator is None:
            raise FilterPatternError(INVALID_PATTERN)
        value = self.lexer.value(operator)
        return lambda document: value.compare(operator, _scalar_text(_resolve(document, path)))

    def selector(self) -> tuple[str | int, ...]:
        """``$.a.b[0][1]`` as ("a", "b", 0, 1): names of letters, digits, ``-`` and ``_``."""
        lexer = self.lexer
        lexer.skip_space()
        start = lexer.position
        if not lexer.text.startswith("$", start):
            raise lexer.bad_character()
        lexer.position += 1
        path: list[str | int] = []
        while lexer.position < len(lexer.text) and lexer.text[lexer.position] in ".[":
            if lexer.text[lexer.position] == ".":
                found = _NAME.match(lexer.text, lexer.position + 1)
                if not found:  # AWS names the selector up to the bad character: '$."'
                    raise _invalid_characters(lexer.text[start : lexer.position + 2])
                path.append(found.group())
            else:
                found = _INDEX.match(lexer.text, lexer.position)
                if not found or not path:
                    raise FilterPatternError(INVALID_PATTERN)
                path.append(int(found.group(1)))
            lexer.position = found.end()
        if not path:
            raise FilterPatternError(INVALID_PATTERN)
        return tuple(path)


def _resolve(document: object, path: tuple[str | int, ...]) -> object:
    for step in path:
        if isinstance(step, int):
            if not isinstance(document, list) or step >= len(document):
                return _MISSING
        elif not isinstance(document, dict) or step not in document:
            return _MISSING
        document = document[step]  # type: ignore[index]
    return document


def _scalar_text(value: object) -> str | None:
    """A value node as text (``true``, ``400``, ``abc``); None for null, objects, arrays and nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


# --- space-delimited --------------------------------------------------------------------------------

_ELLIPSIS = "..."


@dataclass(frozen=True)
class _Condition:
    field: str
    operator: str
    value: _Value

    def holds(self, fields: dict[str, str]) -> bool:
        return self.value.compare(self.operator, fields.get(self.field))


def _delimited_pattern(text: str) -> Matcher:
    if not text.endswith("]"):
        raise FilterPatternError(INVALID_PATTERN)
    lexer = _Lexer(text[1:-1])
    names: list[str] = []  # field names, and the ellipsis where it stands
    # Per field: alternatives (||) of conditions that must all hold (&&).
    checks: list[list[list[_Condition]]] = []
    if lexer.at_end():
        raise FilterPatternError(INVALID_PATTERN)
    while True:
        if lexer.take(_ELLIPSIS):
            if _ELLIPSIS in names:
                raise FilterPatternError(INVALID_PATTERN)
            names.append(_ELLIPSIS)
        elif lexer.peek(",") or lexer.at_end():  # `[..., status_code=4*,]`: one more field, unnamed
            names.append(f"${len(names) + 1}")
        else:
            name, alternatives = _field(lexer)
            names.append(name)
            if alternatives:
                checks.append(alternatives)
        if lexer.at_end():
            break
        lexer.expect(",")
    return functools.partial(_delimited_match, tuple(names), checks)


def _field(lexer: _Lexer) -> tuple[str, list[list[_Condition]]]:
    """A field's name and its conditions: ``status_code = 4* && status_code != 403 || bytes > 1000``."""
    name = lexer.name()
    alternatives: list[list[_Condition]] = []
    conditions: list[_Condition] = []
    subject = name
    while True:
        operator = lexer.operator()
        if operator is None:
            if conditions or alternatives:
                raise FilterPatternError(INVALID_PATTERN)
            return name, []
        conditions.append(_Condition(subject, operator, lexer.value(operator)))
        if lexer.take("&&"):
            subject = lexer.name()
        elif lexer.take("||"):
            alternatives.append(conditions)
            conditions = []
            subject = lexer.name()
        else:
            return name, [*alternatives, conditions]


def _delimited_match(names: tuple[str, ...], checks: list[list[list[_Condition]]], message: str) -> bool:
    fields = _split_fields(message)
    if _ELLIPSIS in names:
        at = names.index(_ELLIPSIS)
        before, after = names[:at], names[at + 1 :]
        if len(fields) < len(before) + len(after):
            return False
        extracted = dict(zip(before, fields, strict=False))
        extracted.update(zip(after, fields[len(fields) - len(after) :], strict=True))
    elif len(fields) != len(names):
        return False
    else:
        extracted = dict(zip(names, fields, strict=True))
    return all(any(all(c.holds(extracted) for c in option) for option in check) for check in checks)


def _split_fields(message: str) -> list[str]:
    """The message's space-separated fields; ``"..."`` and ``[...]`` are one field without their marks."""
    fields = []
    position = 0
    while position < len(message):
        if message[position].isspace():
            position += 1
            continue
        closing = {'"': '"', "[": "]"}.get(message[position])
        end = message.find(closing, position + 1) if closing else -1
        if end != -1:
            fields.append(message[position + 1 : end])
            position = end + 1
        else:
            end = position
            while end < len(message) and not message[end].isspace():
                end += 1
            fields.append(message[position:end])
            position = end
    return fields
