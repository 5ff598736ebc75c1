"""Go duration syntax, as Velero and Kubernetes write durations."""

from __future__ import annotations

import pytest

from restoreflow.kube.durations import format_duration, parse_duration

# Cases from Go's time.ParseDuration tests.
PARSED = [
    ("0", 0.0),
    ("5s", 5.0),
    ("30s", 30.0),
    ("1478s", 1478.0),
    ("-5s", -5.0),
    ("+5s", 5.0),
    ("-0", 0.0),
    ("5.0s", 5.0),
    ("5.6s", 5.6),
    ("5.s", 5.0),
    (".5s", 0.5),
    ("1.004s", 1.004),
    ("1.0040s", 1.004),
    ("100.00100s", 100.001),
    ("10ns", 10e-9),
    ("11us", 11e-6),
    ("12\u00b5s", 12e-6),
    ("12\u03bcs", 12e-6),
    ("13ms", 13e-3),
    ("14s", 14.0),
    ("15m", 900.0),
    ("16h", 57600.0),
    ("3h30m", 12600.0),
    ("10.5s4m", 250.5),
    ("-2m3.4s", -123.4),
    ("1h2m3s4ms5us6ns", 3723.004005006),
    ("39h9m14.425s", 140954.425),
    ("52763797000ns", 52.763797),
    ("0.3333333333333333333h", 1200.0),
]

INVALID = [
    ("", 'time: invalid duration ""'),
    ("3", 'time: missing unit in duration "3"'),
    ("-", 'time: invalid duration "-"'),
    ("s", 'time: invalid duration "s"'),
    (".", 'time: invalid duration "."'),
    ("-.", 'time: invalid duration "-."'),
    (".s", 'time: invalid duration ".s"'),
    ("+.s", 'time: invalid duration "+.s"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("4 hours", 'time: unknown unit " hours" in duration "4 hours"'),
    ("1.1.1s", 'time: missing unit in duration "1.1.1s"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
]

FORMATTED = [
    (0, "0s"),
    (1e-9, "1ns"),
    (1.1e-6, "1.1\u00b5s"),
    (2.2e-3, "2.2ms"),
    (3.3, "3.3s"),
    (60, "1m0s"),
    (90, "1m30s"),
    (4 * 3600, "4h0m0s"),
    (4 * 60 + 5.001, "4m5.001s"),
    (5 * 3600 + 6 * 60 + 7.001, "5h6m7.001s"),
    (8 * 60 + 1e-6, "8m0.000001s"),
    (-90, "-1m30s"),
    (0.25, "250ms"),
]


@pytest.mark.parametrize(("text", "seconds"), PARSED)
def test_parses_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, abs=1e-9)


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_rejects_what_go_rejects_with_gos_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


def test_a_number_is_not_a_duration() -> None:
    with pytest.raises(ValueError, match="a duration is a string"):
        parse_duration(30)  # type: ignore[arg-type]


@pytest.mark.parametrize(("seconds", "text"), FORMATTED)
def test_formats_like_go(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(("text", "_seconds"), PARSED)
def test_formatting_round_trips(text: str, _seconds: float) -> None:
    seconds = parse_duration(text)
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, abs=1e-9)
