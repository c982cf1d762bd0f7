"""AnswerDecoder gives exactly what json.loads gives, decoding only what is new when it can."""

import json
from typing import Any

import pytest

from devhost.protocol.answers import AnswerDecoder


def answer(actions: list[dict[str, Any]], done: bool = False, **rest: Any) -> str:
    """An answer as the SDK writes it (``OrchestratorState.to_json_string``: json.dumps)."""
    state: dict[str, Any] = {"isDone": done, "schemaVersion": 2, "actions": [actions], **rest}
    return json.dumps(state)


def activity(n: int) -> dict[str, Any]:
    return {"actionType": 0, "functionName": "Step", "input": json.dumps(n)}


def timer(cancelled: bool) -> dict[str, Any]:
    return {"actionType": 5, "fireAt": "2026-01-01T00:00:00.000000Z", "isCanceled": cancelled}


def decode_all(texts: list[str]) -> tuple[list[Any], int]:
    decoder = AnswerDecoder()
    return [decoder.decode("instance", text) for text in texts], decoder.reused


def test_a_growing_sequence_is_decoded_incrementally() -> None:
    texts = [answer([activity(i) for i in range(n)]) for n in range(0, 50)]
    texts.append(answer([activity(i) for i in range(50)], done=True, output=[1, 2]))
    decoded, reused = decode_all(texts)
    assert decoded == [json.loads(text) for text in texts]
    assert reused == 49  # every episode after the first, except the last (isDone changed)


def test_an_old_action_that_changed_is_decoded_again() -> None:
    texts = [
        answer([activity(0), timer(False)]),
        answer([activity(0), timer(False), activity(1)]),
        answer([activity(0), timer(True), activity(1), activity(2)]),  # the timer was cancelled
        answer([activity(0), timer(True), activity(1), activity(2), activity(3)]),
    ]
    decoded, reused = decode_all(texts)
    assert decoded == [json.loads(text) for text in texts]
    assert decoded[2]["actions"][0][1]["isCanceled"] is True
    assert reused == 2


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"isDone": False, "actions": [[activity(0)], [activity(1)]]}),  # schema V1
        json.dumps({"isDone": True, "schemaVersion": 2, "actions": [[]], "output": None}),
        json.dumps({"output": '"actions": [[', "isDone": True, "actions": [[activity(0)]]}),
        json.dumps({"isDone": False, "schemaVersion": 2, "actions": [[activity(0)]]}, indent=2),
        json.dumps({"isDone": True, "schemaVersion": 2, "actions": [], "error": "boom"}),
        '{"isDone": false, "schemaVersion": 2, "actions": [[{"a": 1}]], "customStatus": "]]"}',
    ],
)
def test_any_other_layout_is_parsed_in_full(text: str) -> None:
    decoder = AnswerDecoder()
    assert decoder.decode("x", text) == json.loads(text)
    assert decoder.decode("x", text) == json.loads(text)


def test_custom_status_and_output_after_the_actions_are_kept() -> None:
    first = answer([activity(0)], customStatus={"step": 1})
    second = answer([activity(0), activity(1)], customStatus=']], "actions": [[')
    decoded, reused = decode_all([first, second])
    assert decoded == [json.loads(first), json.loads(second)]
    assert reused == 1


def test_instances_do_not_share_what_is_known() -> None:
    decoder = AnswerDecoder(capacity=1)
    a = [answer([activity(i) for i in range(n)]) for n in (1, 2)]
    b = [answer([{"actionType": 0, "functionName": "Other", "input": "1"}] * n) for n in (1, 2)]
    assert decoder.decode("a", a[0]) == json.loads(a[0])
    assert decoder.decode("b", b[0]) == json.loads(b[0])  # evicts "a" (capacity 1)
    assert decoder.decode("a", a[1]) == json.loads(a[1])
    assert decoder.decode("b", b[1]) == json.loads(b[1])
    assert decoder.reused == 0


def test_malformed_text_raises_like_json_loads() -> None:
    decoder = AnswerDecoder()
    decoder.decode("x", answer([activity(0)]))
    with pytest.raises(ValueError):
        decoder.decode("x", answer([activity(0)])[:-5])
