"""What only a developer's machine has: Azurite started and watched, and the test hooks.

Neither exists on Azure. Azurite is started for ``UseDevelopmentStorage=true`` (and only the one
this devhost owns is ever stopped); the test hooks (``--test-hooks``) move the manual clock and
long-poll an instance, and are wired in only when asked for.
"""
