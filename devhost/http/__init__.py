"""Everything a request goes through: the app's HTTP functions and the Durable HTTP API.

Route templates as the Functions host resolves them, the app's routes as ``RpcHttp`` invocations,
the extension's RPC and webhook API over the engine, keys and their precedence, URLs and the client
binding, request bodies and values read as the host reads them, and the JSON error answers.
"""
