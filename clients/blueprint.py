"""The one ``df.Blueprint`` every HTTP client function in this package registers on.

Routes take no ``auth_level`` of their own: the app's level (set in ``function_app.py``) applies.
"""

import azure.durable_functions as df

blueprint = df.Blueprint()
