"""Durable state, time and the running of work: the Durable extension's engine.

The SQLite store (the one owner of the cached history) and its state file, the clock (real or
skippable), the dispatcher (episodes prepared, invoked in a worker, group-committed; timers;
waiters) and the engine, the facade the HTTP layer calls. Orchestrators and activities are
invoked through ``devhost.workers``; the pure decisions are ``devhost.core``'s.
"""
