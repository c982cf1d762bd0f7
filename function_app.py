"""Function registration only: one DFApp, the blueprints from orchestrators/, activities/, clients/,
and the custom-status package's (its activities: the one line an app adds to use it).

Everything that does work lives in those packages so that each piece can be read and tested alone.
"""

import azure.durable_functions as df
import azure.functions as func

import custom_status
from activities import blueprint as activities_blueprint
from clients import blueprint as clients_blueprint
from orchestrators import blueprint as orchestrators_blueprint

# Every HTTP route needs a function key (code= or x-functions-key): deployed, an anonymous route
# would let anyone start orchestrations, read inputs and raise events on others' instances.
app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(custom_status.blueprint)
app.register_functions(orchestrators_blueprint)
app.register_functions(activities_blueprint)
app.register_functions(clients_blueprint)
