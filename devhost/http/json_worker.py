"""Big JSON bodies checked in a child process, so that parsing them never stalls other clients.

Why a process and not a thread: CPython's JSON scanner is C code that holds the GIL for the whole
call, so a thread parsing 48 MB of ``[[], [], ...]`` still froze the event loop for 1.9 s
(2.1 s for small objects, 1.5 s for numbers); only callbacks into Python code let the loop in.
One child process, spawned on first use and then reused, runs :func:`check_json_text` for texts
over ``OFF_LOOP_CHARS``; the loop only hands the text over (a copy) and waits. Smaller texts are
checked inline: at most a few tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from devhost.protocol.json_text import InvalidJson, check_json_text

log = logging.getLogger("devhost.http.json_worker")

OFF_LOOP_CHARS = 1024 * 1024
"""Texts longer than this are checked in the child process."""

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the host has threads (activities, HTTP functions), which a forked
            # child would inherit in whatever state they were.
            _pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def problem_of(text: str) -> str | None:
    """What :func:`check_json_text` refuses in ``text``, or None (runs in the child)."""
    try:
        check_json_text(text)
    except InvalidJson as error:
        return str(error)
    return None


async def check_json_text_off_loop(text: str) -> str:
    """:func:`check_json_text`, in the child process when ``text`` is big."""
    if len(text) <= OFF_LOOP_CHARS:
        return check_json_text(text)
    pool = _executor()
    try:
        problem = await asyncio.get_running_loop().run_in_executor(pool, problem_of, text)
    except BrokenProcessPool:
        # The child died (killed, out of memory): a new one is spawned for the next body.
        log.warning("The process checking big JSON bodies stopped; checking this one in a thread.")
        _discard(pool)
        problem = await asyncio.to_thread(problem_of, text)
    if problem is not None:
        raise InvalidJson(problem)
    return text
