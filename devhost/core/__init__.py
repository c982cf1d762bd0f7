"""The durable logic itself, pure: what an episode means and what it changes.

Typed records of instances and their bookkeeping, the outcome of an episode as data, the episode
core that reads the SDK's answer (sequence numbers, retries, timers, sub-orchestrations, the 16 KB
limit, continue-as-new), rewind, new instances, the status body, devhost's named errors and its
options. No store, clock, loop or network: each function is tested directly with fixtures.
"""
