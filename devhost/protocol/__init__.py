"""What the Durable extension, the SDK and the Functions host exchange, and the rules on it.

History events in the extension's JSON shape, the SDK's action list and its cumulative answer,
the JSON text a client may send, the limits of the host's storage: data and pure functions with
no knowledge of devhost's state, HTTP or processes. Everything else in devhost builds on this
layer; it imports nothing of devhost's and no I/O library.
"""
