"""Which activity payloads DurableTask's Azure Storage provider would move to its large-messages
container: over 45 KB of UTF-8 in the queue message, or over 60 KB of UTF-16 in the history."""

import json

from devhost.protocol.large_messages import out_of_line_reasons


def as_input(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # an activity's input is JSON text


def test_small_and_missing_payloads_stay_inline():
    assert out_of_line_reasons(None) == []
    assert out_of_line_reasons(as_input("x" * 30_000)) == []  # 60,004 UTF-16 bytes: inline


def test_ascii_reaches_the_history_limit_first():
    """60 KB of UTF-16 is 30,720 ASCII characters; the message limit is 46,080 bytes."""
    (reason,) = out_of_line_reasons(as_input("x" * 31_000))
    assert "60 KB of UTF-16 (62,004 bytes)" in reason


def test_three_byte_characters_reach_the_message_limit_first():
    """'€' is 3 bytes of UTF-8 and 2 of UTF-16: 16,000 of them are 48 KB in the message, 32 KB in
    the history."""
    (reason,) = out_of_line_reasons(as_input("€" * 16_000))
    assert "45 KB of UTF-8" in reason


def test_escaping_counts_in_the_message():
    """Inside the task message the input is a JSON string again, escaped once more: 23,202
    characters (46 KB of UTF-16) that take 46,406 bytes there."""
    payload = as_input('"' * 11_600)  # '"\\"\\"...': each quote already two characters
    assert len(payload.encode("utf-8")) < 45 * 1024 < len(json.dumps(payload).encode("utf-8"))
    (reason,) = out_of_line_reasons(payload)
    assert "45 KB of UTF-8 (46,406 bytes)" in reason


def test_both_limits_are_named_when_both_are_passed():
    assert len(out_of_line_reasons(as_input("x" * 50_000))) == 2
