"""BatchProgress through the SDK's replay: chunks of items appended to an append-style status,
generations joined by continue-as-new, the input validated.

``AppendCustomStatus`` is answered as the activity would answer it (``after_append``, no storage);
the real activity runs in tests/app/offload and tests/custom_status.
"""

import json

import pytest

from activities.process_batch_item import process_item
from custom_status import APPEND_ACTIVITY as APPEND_CUSTOM_STATUS
from custom_status import LogReference, inline_size
from orchestrators.batch_progress import (
    CHUNK_SIZE,
    ITEMS_PER_GENERATION,
    MAX_BATCH_SIZE,
    PROCESS_BATCH_ITEM,
    parse_batch_size,
    parse_input,
    status_row,
)
from orchestrators.inputs import InvalidInput
from tests.replay import ActionType, History, run_failing_episode
from tests.support.replay_driver import (
    answer_append,
    appended_rows,
    drive,
    fail_every_append_attempt,
    flat_actions,
)

NAME = "BatchProgress"


def answer(name, payload):
    if name == PROCESS_BATCH_ITEM:
        return process_item(payload["index"])
    return answer_append(name, payload)


def continued_input(run):
    """The input a generation continued as new with, or None if it was the last."""
    continued = [
        action
        for action in flat_actions(run.final)
        if action.get("actionType") == ActionType.CONTINUE_AS_NEW
    ]
    return json.loads(continued[0]["input"]) if continued else None


def run_generations(orchestrator, size):
    """Drive BatchProgress generation after generation, as the host would after continue-as-new."""
    runs, value = [], size
    while value is not None:
        runs.append(drive(orchestrator(NAME), History(NAME, value), answer))
        value = continued_input(runs[-1])
    return runs


def test_a_batch_of_250_appends_each_generations_rows_once_at_its_end(orchestrator):
    runs = run_generations(orchestrator, 250)
    assert len(runs) == 3  # generations of ITEMS_PER_GENERATION
    assert runs[-1].final["output"] == {"done": 250, "total": 250, "failed": 0}
    items = [payload["index"] for run in runs for payload in run.inputs_of(PROCESS_BATCH_ITEM)]
    assert items == list(range(250))  # each item once, in order

    appends = [payload for run in runs for payload in run.inputs_of(APPEND_CUSTOM_STATUS)]
    # An empty table first (clients see "0 of 250" at once), then each generation's rows.
    assert appended_rows(appends[0]) == [] and appends[0]["summary"]["done"] == 0
    assert [len(appended_rows(a)) for a in appends[1:]] == [ITEMS_PER_GENERATION] * 2 + [50]
    rows = [row for a in appends for row in appended_rows(a)]
    assert rows == [status_row(i, process_item(i)) for i in range(250)]
    assert [a["summary"]["done"] for a in appends] == [0, 100, 200, 250]

    refs = [LogReference.from_status(run.final["customStatus"]) for run in runs]
    assert len({ref.blob for ref in refs}) == 1  # one log, carried from generation to generation
    assert (refs[-1].rows, refs[-1].rows_key) == (250, "items")
    assert refs[-1].summary == {"done": 250, "total": 250, "state": "completed"}
    # The host never holds the table: the status stays a few hundred bytes.
    states = [state for run in runs for state in run.states]
    assert all(inline_size(state.get("customStatus")) < 1_000 for state in states)


def test_a_generation_appends_its_rows_once_after_its_chunks(orchestrator):
    """One append per generation, alone at its end: an append beside a chunk would cost the
    same extra episode and have its rows serialised again in every later episode's actions."""
    run = drive(orchestrator(NAME), History(NAME, 250), answer)
    seen = 0
    episodes = []
    for state in run.states[:-1]:
        leaves = flat_actions(state)
        episodes.append([leaf["functionName"] for leaf in leaves[seen:]])
        seen = len(leaves)
    chunk = [PROCESS_BATCH_ITEM] * CHUNK_SIZE
    assert episodes == [[APPEND_CUSTOM_STATUS], chunk, chunk, chunk, chunk, [APPEND_CUSTOM_STATUS]]


def test_an_append_giving_up_fails_the_instance_as_an_append(orchestrator):
    error, _, failed = fail_every_append_attempt(orchestrator(NAME), History(NAME, 50))
    assert "could not append 0 rows" in error and "after 7 attempts" in error
    # No log yet: the summary alone, inline, says the batch failed and why.
    assert failed["customStatus"] == {"done": 0, "total": 50, "state": "failed", "reason": error}


def test_an_append_giving_up_mid_batch_says_failed_not_running(orchestrator):
    """A later generation whose append gives up: the status is the last log set (its 100 rows
    stay readable) with the summary saying failed, not the "running" it said before."""
    total = ITEMS_PER_GENERATION + 50
    first = drive(orchestrator(NAME), History(NAME, total), answer)
    resumed = continued_input(first)
    log = resumed["resume"]["log"]
    assert LogReference.from_status(log).summary["state"] == "running"

    error, _, failed = fail_every_append_attempt(orchestrator(NAME), History(NAME, resumed), answer)
    ref = LogReference.from_status(failed["customStatus"])
    before = LogReference.from_status(log)
    assert (ref.blob, ref.size, ref.rows, ref.chain) == (
        before.blob,
        before.size,
        before.rows,
        before.chain,
    )
    assert ref.summary == {
        "done": ITEMS_PER_GENERATION,
        "total": total,
        "state": "failed",
        "reason": error,
    }
    assert "could not append 50 rows" in error and "after 7 attempts" in error
    assert inline_size(failed["customStatus"]) < 2_000


def test_a_generation_ends_in_continue_as_new_carrying_the_log(orchestrator):
    total = ITEMS_PER_GENERATION + 50
    run = drive(orchestrator(NAME), History(NAME, total), answer)
    # The first generation processed its share and continued as new with the log.
    resumed = continued_input(run)
    size, done, failed, log = parse_input(resumed)
    assert (size, done, failed) == (total, ITEMS_PER_GENERATION, 0)
    assert LogReference.from_status(log).rows == ITEMS_PER_GENERATION

    # The next generation picks up there: 50 more items, appended to the same log.
    second = drive(orchestrator(NAME), History(NAME, resumed), answer)
    indexes = [p["index"] for p in second.inputs_of(PROCESS_BATCH_ITEM)]
    assert indexes == list(range(ITEMS_PER_GENERATION, total))
    assert [a["log"] for a in second.inputs_of(APPEND_CUSTOM_STATUS)] == [log]  # no new table
    final = LogReference.from_status(second.final["customStatus"])
    assert (final.blob, final.rows) == (LogReference.from_status(log).blob, total)
    assert second.final["output"] == {"done": total, "total": total, "failed": 0}
    assert continued_input(second) is None


@pytest.mark.parametrize("value", [1, 250, MAX_BATCH_SIZE, {"size": 7}])
def test_valid_sizes(value):
    assert parse_batch_size(value) == (value["size"] if isinstance(value, dict) else value)


@pytest.mark.parametrize(
    "value",
    [0, -1, MAX_BATCH_SIZE + 1, 2.5, 10.0, "10", True, None, [10], {"size": 0}, {"count": 10}],
    ids=repr,
)
def test_invalid_sizes_are_refused_with_the_allowed_range(value):
    with pytest.raises(InvalidInput, match="from 1 to 100000"):
        parse_batch_size(value)


@pytest.mark.parametrize(
    "resume",
    [
        {"done": 10, "failed": 0},
        {"done": 11, "failed": 0, "log": {}},  # past the size
        {"done": 5, "failed": 6, "log": {}},
        {"done": "5", "failed": 0, "log": {}},
        {"done": 5, "failed": 0, "log": None},
    ],
    ids=repr,
)
def test_a_malformed_resume_is_refused(resume):
    with pytest.raises(InvalidInput, match="resume"):
        parse_input({"size": 10, "resume": resume})


def test_a_bad_input_fails_the_instance(orchestrator):
    error, _ = run_failing_episode(orchestrator(NAME), History(NAME, MAX_BATCH_SIZE + 1))
    assert "BatchProgress input must be the batch size" in error


def test_process_item_outcomes_are_deterministic():
    assert process_item(36) == process_item(36) != process_item(37)
    assert set(process_item(36)) == {"result", "checksum"}  # the work's outcome, not the row
    with pytest.raises(ValueError):
        process_item(-1)


def test_status_rows_are_numbered_from_one_and_say_what_happened():
    row = status_row(36, {"result": "ok", "checksum": "0123456789abcdef"})
    assert row == {
        "item": 37,
        "name": "item-0037",
        "result": "ok",
        "checksum": "0123456789abcdef",
        "message": "item-0037 validated, transformed and stored (checksum 0123456789abcdef).",
    }
    refused = status_row(0, {"result": "rejected", "checksum": ""})
    assert refused["message"] == "item-0001 was not processed: rejected."


def test_each_row_is_in_the_history_once(orchestrator):
    """The items' results carry only their outcome; the row itself is only in the append's
    input. (Were the activity to return the row, the history would hold every row twice.)"""
    history = History(NAME, 100)
    run = drive(orchestrator(NAME), history, answer)
    rows = [row for a in run.inputs_of(APPEND_CUSTOM_STATUS) for row in appended_rows(a)]
    assert len(rows) == 100
    history_text = json.dumps(history.events)
    assert all(history_text.count(row["message"]) == 1 for row in rows)


def test_an_append_input_stays_inline_on_azure_storage(orchestrator):
    """The last generation of the largest batch has the longest rows (item-100000). Its append's
    input must stay where DurableTask's Azure Storage provider keeps it inline: at most 60 KB of
    UTF-16 as a history property, 45 KB of UTF-8 as a queue message (over either, it goes to the
    large-messages container and is fetched again on replay). Fails if the generation grows much
    past ITEMS_PER_GENERATION's 100 rows."""
    done = MAX_BATCH_SIZE - ITEMS_PER_GENERATION
    log = LogReference("custom-status", "status/i/log-1.ndjson", rows_key="items").to_status()
    resume = {"done": done, "failed": 0, "log": log}
    run = drive(
        orchestrator(NAME), History(NAME, {"size": MAX_BATCH_SIZE, "resume": resume}), answer
    )
    (append,) = [
        leaf["input"]
        for leaf in flat_actions(run.final)
        if leaf["functionName"] == APPEND_CUSTOM_STATUS
    ]
    assert len(appended_rows(json.loads(append))) == ITEMS_PER_GENERATION
    assert len(append.encode("utf-16-le")) <= 60 * 1024
    assert len(append.encode("utf-8")) <= 45 * 1024
