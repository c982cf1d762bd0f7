"""The app as the host reads it before and after its workers start.

``local.settings.json`` into the environment, ``host.json`` (route prefix, task hub,
``functionTimeout``), and the worker's function metadata turned into the ``AppIndex`` the engine
and the HTTP layer use; bindings devhost cannot honour are refused here. Never imports the app.
"""
