"""CloudWatch Logs filter patterns: every example of AWS's "Filter pattern syntax" page (the examples of
the CloudWatch Logs User Guide, FilterAndPatternSyntax) against its sample events, and the errors
CloudWatch answers for patterns it refuses."""

from __future__ import annotations

import json

import pytest

from harness.filter_patterns import FilterPatternError, matcher


def matching(pattern: str, messages: list[str]) -> list[str]:
    matches = matcher(pattern)
    return [message for message in messages if matches(message)]


# --- terms --------------------------------------------------------------------------------------------

EVENTS = [
    "[ERROR] A fatal exception has occurred",
    "Exiting with ERRORCODE: -1",
    "[ERROR] Caught IllegalArgumentException",
    "[ERROR] Unhandled Exception",
    "[WARN] Failed to process the request",
    "[ERROR] Unable to continue: Failed to process the request",
    "[INFO] all good",
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", EVENTS),  # "Match everything"
        ('" "', EVENTS),
        ("ERROR", [EVENTS[0], EVENTS[1], EVENTS[2], EVENTS[3], EVENTS[5]]),  # ERRORCODE too
        ('"ERROR" - "Exiting"', [EVENTS[0], EVENTS[2], EVENTS[3], EVENTS[5]]),
        ("ERROR -Exiting", [EVENTS[0], EVENTS[2], EVENTS[3], EVENTS[5]]),
        ("ERROR Exception", [EVENTS[2], EVENTS[3]]),
        ("Failed to process the request", [EVENTS[4], EVENTS[5]]),  # every term, anywhere
        ('"Failed to process the request"', [EVENTS[4], EVENTS[5]]),  # the phrase
        ('"process Failed"', []),
    ],
)
def test_term_examples(pattern, expected):
    assert matching(pattern, EVENTS) == expected


def test_or_examples():
    events = ["ERROR WARN message", "ERROR message", "WARN message"]
    assert matching("ERROR", events) == events[:2]
    assert matching("?ERROR ?WARN", events) == events
    assert matching("ERROR WARN", events) == events[:1]
    assert matching("ERROR -WARN", events) == events[1:2]


def test_a_question_mark_starts_a_group_of_terms_as_the_cdks_any_term_group_writes_them():
    pattern = '?"ERROR" "MainThread" ?"WARN" "Deadlock"'  # FilterPattern.anyTermGroup
    events = ["ERROR in MainThread", "ERROR elsewhere", "WARN Deadlock found", "WARN only"]
    assert matching(pattern, events) == [events[0], events[2]]


def test_terms_are_case_sensitive():
    report = "REPORT RequestId: 1\tDuration: 2.00 ms"
    assert matching("report", [report]) == []
    assert matching("REPORT", [report]) == [report]


def test_a_quoted_term_may_hold_any_character_and_escaped_quotes():
    events = ['say "hi" (now)', "say hi now"]
    assert matching(r'"\"hi\" (now)"', events) == events[:1]
    assert matching('"RequestId: 1"', ["START RequestId: 1 Version: 2"]) == ["START RequestId: 1 Version: 2"]


# --- JSON ---------------------------------------------------------------------------------------------

TRAIL = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
    }
)


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "UpdateTrail" }',
        "{ $.sourceIPAddress != 123.123.* }",
        '{ $.arrayKey[0] = "value" }',
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
        "{ $.eventType = *Trail }",
        "{ $.eventType = Update* }",
        "{ $.eventType EXISTS }",
    ],
)
def test_json_examples_that_match(pattern):
    assert matcher(pattern)(TRAIL)


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "updatetrail" }',
        "{ $.sourceIPAddress != 111.111.* }",
        '{ $.arrayKey[2] = "value" }',
        "{ $.eventType[0] = UpdateTrail }",  # not an array
        "{ $.objectList[1].id = 1 }",
        "{ $.eventType IS NULL }",
        "{ $.ThisFlag IS FALSE }",
        "{ $.eventType NOT EXISTS }",
        "{ $.SomeOtherObject EXISTS }",
        "{ $.eventType = Upd*ail }",  # a * inside is the character itself
        "{ $.arrayKey = value }",  # an array is no value node: neither = ...
        "{ $.arrayKey != value }",  # ... nor != matches
        "{ $.missing != value }",
    ],
)
def test_json_examples_that_do_not_match(pattern):
    assert not matcher(pattern)(TRAIL)


USERS = json.dumps(
    {
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }
)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
        ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
        (
            '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && '
            "$.actions[2] = nomatch }",
            True,
        ),
        (
            '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && '
            "$.actions[2] = nomatch }",
            False,
        ),
        ("{ $.coordinates[2][0] = 7 }", True),
    ],
)
def test_json_compound_examples(pattern, matches):
    assert matcher(pattern)(USERS) is matches


def test_json_or_example():
    events = ['{"foo": "bar"}', '{"foo": "baz"}']
    assert matching("{$.foo = bar}", events) == events[:1]
    assert matching("{$.foo = baz }", events) == events[1:]
    assert matching("{$.foo = bar || $.foo = baz }", events) == events


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("{ $.latency >= 500 }", True),
        ("{ $.latency > +1000 }", False),
        ("{ $.numbers[0] < 10e3 }", True),
        ("{ $.numbers[0] < 10e-3 }", False),
        ("{ $.processes[4].averageRuntime <= 55.5 }", True),
        ("{ $.errorCode = 400 }", True),
        ("{ $.errorCode != 500 }", True),
        ("{ $.errorCode != 400 }", False),
        ("{ $.latency = * }", True),
    ],
)
def test_numeric_examples(pattern, matches):
    event = json.dumps(
        {
            "latency": 500,
            "numbers": [12],
            "errorCode": 400,
            "processes": [{}, {}, {}, {}, {"averageRuntime": 55}],
        }
    )
    assert matcher(pattern)(event) is matches


def test_a_json_pattern_matches_json_objects_only():
    pattern = matcher('{ $.level = "ERROR" }')
    assert pattern('{"level": "ERROR", "message": "boom"}')
    assert not pattern('{"level": "INFO"}')
    assert not pattern("ERROR level")
    assert not pattern('["level", "ERROR"]')


# --- space-delimited ----------------------------------------------------------------------------------

ACCESS = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /index.html HTTP/1.0" 404 4355',
    '127.0.0.1 - frank [10/Oct/2000:13:55:01 -0700] "GET /index.html HTTP/1.0" 403 1200',
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ip, user, username, timestamp, request, status_code, bytes]", ACCESS),
        ("[..., status_code, bytes]", ACCESS),
        ("[ip, user, ..., status_code, bytes]", ACCESS),
        ("[ip, user, ...]", ACCESS),
        ("[ip, user, username, timestamp, request, status_code]", []),  # one field too few
        ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", ACCESS),
        ("[ip, user, username, timestamp, request, status_code, bytes > 2000]", ACCESS[1:3]),
        ("[ip, user, username, timestamp, request, status_code = 200, bytes]", ACCESS[:1]),
        ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", ACCESS[2:]),
        ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", ACCESS[2:]),
        (
            "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
            ACCESS[2:3],
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
            ACCESS[2:],
        ),
        ("[..., request=*.html*, status_code=4*,]", ACCESS[2:]),
        (
            '[ip, user, username, timestamp, request = "GET /index.html HTTP/1.0", status_code, bytes]',
            ACCESS[2:],
        ),
        ('[..., timestamp = "*13:5*", request, status_code, bytes]', ACCESS[2:]),
    ],
)
def test_space_delimited_examples(pattern, expected):
    assert matching(pattern, ACCESS) == expected


def test_space_delimited_or_examples():
    events = ["ERROR WARN message", "ERROR message", "WARN message"]
    assert matching("[w1=ERROR, w2]", events) == events[1:2]
    assert matching("[w1=ERROR || w1=WARN, w2]", events) == events[1:]


# --- regular expressions -----------------------------------------------------------------------------


def test_regex_examples():
    events = ["[ERROR 401] UNAUTHORIZED REQUEST", "[SUCCESS 200] AUTHORIZED REQUEST", "[ERROR 500] INTERNAL"]
    assert matching("%AUTHORIZED%", events) == events[:2]
    assert matching("%^\\[ERROR\\s4%", events) == events[:1]
    assert matching("%[0-9]{3}%", events) == events
    assert matching("%INTERNAL$|^\\[SUCCESS%", events) == events[1:]


def test_regex_values_in_json_and_space_delimited_patterns():
    assert matcher("{ $.eventType = %Trail$% }")(TRAIL)
    assert not matcher("{ $.eventType != %^Update% }")(TRAIL)
    events = ["ERROR42 message", "WARN message"]
    assert matching("[w1 = %^ERROR[0-9]+$%, w2]", events) == events[:1]


# --- refused patterns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("Status: timeout", "Invalid character(s) in term ':'"),
        ("?Status: timeout", "Invalid character(s) in term ':'"),
        ("call(x)", "Invalid character(s) in term '('"),
        ("a.b", "Invalid character(s) in term '.'"),
        ('{ $."sc-status" = 5* }', "Invalid character(s) in term '$.\"'"),
        ("{ $.level = John@example }", "Invalid character(s) in term '@'"),
        ("{ $.level = }", "Invalid filter pattern"),
        ('{ $.level = "ERROR" ', "Invalid filter pattern"),
        ("{ $.level }", "Invalid filter pattern"),
        ("{ $.latency > fast }", "Invalid filter pattern"),
        ('{ $.level = "ERROR" && }', "Invalid filter pattern"),
        ("{ ($.a = 1 }", "Invalid filter pattern"),
        ("{ level = 1 }", "Invalid character(s) in term 'l'"),
        ('"unclosed', "Invalid filter pattern"),
        ("ERROR -", "Invalid filter pattern"),
        ("[a, b", "Invalid filter pattern"),
        ("[]", "Invalid filter pattern"),
        ("[..., a, ...]", "Invalid filter pattern"),
        ("[a = ]", "Invalid filter pattern"),
        ("[a > x]", "Invalid filter pattern"),
        ("%ERR(OR)?%", "Invalid character(s) in term '('"),  # AWS: no subpatterns
        ("%something!%", "Invalid character(s) in term '!'"),  # AWS's own example
        ("%café%", "Invalid character(s) in term 'é'"),  # no multi-byte characters
        ("%ERROR 4%", "Invalid character(s) in term ' '"),  # nor a space (\s is one)
        ("%ERROR", "Invalid filter pattern"),
        ("%[%", "Invalid filter pattern"),
        ("{ $.latency > %5% }", "Invalid filter pattern"),
    ],
)
def test_refused_patterns_carry_cloudwatchs_message(pattern, message):
    with pytest.raises(FilterPatternError) as refused:
        matcher(pattern)
    assert str(refused.value) == message
