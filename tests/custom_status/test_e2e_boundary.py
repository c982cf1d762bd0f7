"""The 16 KB boundary end to end: 16,384 UTF-16 bytes stay inline, 16,386 are offloaded.

Sizes are what the host counts (UTF-16 bytes of compact JSON): an accent or a CJK character is 2
bytes (CJK is 3 in UTF-8, so a UTF-8 count would offload the CJK value too early), an emoji is a
surrogate pair, 4 bytes (so counting Python characters would let 16,386 bytes slip through).
"""

import pytest

from custom_status import StatusReference, serialize
from tests.support.offload import builtin_status, invocations, our_status, run_script, set_step
from tests.support.sized import UNITS, make_value

KINDS = sorted(UNITS)


@pytest.mark.parametrize("kind", KINDS)
async def test_16384_bytes_stay_inline(host, http, instance_id, kind):
    spec = {"kind": kind, "bytes": 16_384}
    value = make_value(spec)
    if kind == "cjk":
        assert len(serialize(value).encode("utf-8")) > 24_000  # over 16 KB in UTF-8, still inline
    final = await run_script(http, host.base_url, instance_id, [set_step(spec)])
    assert final["runtimeStatus"] == "Completed", final

    builtin = await builtin_status(http, host.base_url, instance_id)
    assert builtin["customStatus"] == value  # the host holds the value itself
    code, ours, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200 and ours["customStatus"] == value
    assert invocations(host, "UploadCustomStatus", instance_id) == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_16386_bytes_are_offloaded(host, http, instance_id, kind):
    spec = {"kind": kind, "bytes": 16_386}
    value = make_value(spec)
    if kind == "emoji":
        assert len(serialize(value)) < 8_200  # few characters, but surrogate pairs count double
    final = await run_script(http, host.base_url, instance_id, [set_step(spec)])
    assert final["runtimeStatus"] == "Completed", final

    builtin = await builtin_status(http, host.base_url, instance_id)
    ref = StatusReference.from_status(builtin["customStatus"])
    assert ref is not None, builtin["customStatus"]
    assert ref.utf16_size == 16_386
    assert ref.size == len(serialize(value).encode("utf-8"))
    code, ours, _ = await our_status(http, host.base_url, instance_id)
    assert code == 200 and ours["customStatus"] == value
    assert invocations(host, "UploadCustomStatus", instance_id, "Succeeded") == 1
