"""The host side of the Functions RPC and the worker processes that run the app.

The Functions host never imports an app: it starts language worker processes and talks to them
over gRPC (the ``EventStream`` of ``FunctionRpc``). devhost does the same. ``rpc`` holds devhost's
own subset of the published schema, compiled with grpcio-tools; ``launcher`` is the small program
each worker process runs (the role the host's bundled proxy worker plays on Azure), which hands
every message to Microsoft's worker library ``azure_functions_runtime``; ``pool`` starts,
watches and restarts those processes and spreads invocations over them.
"""
