"""How the helpers' status writes are retried: long enough to ride out a storage outage.

The writes run in activities (``UploadCustomStatus``, ``AppendCustomStatus``) called with
``call_activity_with_retry``; the retry policy is the Durable extension's, on durable timers, so a
minute of waiting costs no compute and survives a host restart.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df


class BackoffRetryOptions(df.RetryOptions):
    """``df.RetryOptions`` with the exponential backoff the Durable extension supports.

    ``azure-functions-durable`` 1.7.0 sends only ``firstRetryIntervalInMilliseconds`` and
    ``maxNumberOfAttempts``; the extension's ``RetryOptionsConverter`` also reads
    ``backoffCoefficient``, ``maxRetryIntervalInMilliseconds`` and ``retryTimeoutInMilliseconds``
    and hands them to DurableTask's ``RetryInterceptor``, which waits ``first * coefficient **
    (attempt - 1)`` (capped at the maximum interval) after each failed attempt, on a durable timer.
    The SDK's replay does not depend on the intervals (it waits for whatever timer the host
    records after each failure), so the two fields below only change when the timers fire.

    ``retryTimeoutInMilliseconds`` is deliberately not offered: when it expires, the interceptor
    gives up without the timer it otherwise creates after every failure, and the Python SDK,
    which always waits for that timer (``RetryAbleTask``), would then wait forever."""

    def __init__(
        self,
        first_retry_interval_in_milliseconds: int,
        max_number_of_attempts: int,
        *,
        backoff_coefficient: float = 1.0,
        max_retry_interval_in_milliseconds: int | None = None,
    ) -> None:
        super().__init__(first_retry_interval_in_milliseconds, max_number_of_attempts)
        if backoff_coefficient < 1:
            raise ValueError("backoff_coefficient must be at least 1")
        self.backoff_coefficient = backoff_coefficient
        self.max_retry_interval_in_milliseconds = max_retry_interval_in_milliseconds

    def delays_in_milliseconds(self) -> list[int]:
        """The wait after each failed attempt, as DurableTask's ``RetryInterceptor`` computes it
        (the last one is the wait after the final failure, before the call gives up)."""
        cap = self.max_retry_interval_in_milliseconds
        delays = []
        for attempt in range(self.max_number_of_attempts):
            delay = self.first_retry_interval_in_milliseconds * self.backoff_coefficient**attempt
            delays.append(int(delay if cap is None or delay < cap else cap))
        return delays

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(super().to_json())
        data["backoffCoefficient"] = self.backoff_coefficient
        if self.max_retry_interval_in_milliseconds is not None:
            data["maxRetryIntervalInMilliseconds"] = self.max_retry_interval_in_milliseconds
        return data


UPLOAD_RETRY = BackoffRetryOptions(
    first_retry_interval_in_milliseconds=2_000,
    max_number_of_attempts=7,
    backoff_coefficient=2.0,
    max_retry_interval_in_milliseconds=30_000,
)
"""How a status write (``UploadCustomStatus``, ``AppendCustomStatus``) is retried: 7 attempts,
waiting 2, 4, 8, 16, 30 and 30 s between them (durable timers), so the last attempt starts 90 s
after the first one failed; the call gives up 30 s after that (DurableTask's retry waits once
more after the last failure).

Why about a minute and a half: an outage of about a minute must not fail a running instance.

* Azurite restarted by hand or by the VS Code extension: the process itself starts in about
  1.3 s here (``Azurite(...).start()`` until it accepts connections, measured on this project's
  2-core CI machine), but a person stopping and starting it, or a crashed one noticed and
  restarted, takes seconds to tens of seconds; devhost restarts an Azurite it started within
  about that 1.3 s (``devhost.dev.azurite.Azurite.watch``).
* Azure Storage throttling (503 ServerBusy, 500 OperationTimedOut) and transient faults: Azure's
  guidance is to retry with exponential backoff, and the Storage SDK's own default
  (``ExponentialRetry``: 15 s + 3^n) waits 18, 24 and 42 s, about 84 s, before it gives up.

The backoff keeps a long outage cheap (7 activity attempts in all, not one every 2 s) while a
short one costs only a 2 s or 4 s wait. Each attempt is itself bounded: the blob client retries
twice within about a second and a whole write gives up after ``StorageSettings.write_timeout``
(30 s), so an attempt never takes minutes. The Functions host honours all of it, as does
devhost."""
