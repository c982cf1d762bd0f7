"""The one ``df.Blueprint`` every orchestrator in this package registers on.

A separate module (rather than defining it in ``__init__``) lets each orchestrator module import
it without importing its siblings, so modules stay small and independent.
"""

import azure.durable_functions as df

blueprint = df.Blueprint()
