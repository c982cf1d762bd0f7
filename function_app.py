"""Function registration only: one DFApp, the blueprints from orchestrators/, activities/, clients/.

Everything that does work lives in those packages so that each piece can be read and tested alone.
"""

import azure.durable_functions as df
import azure.functions as func

from activities import blueprint as activities_blueprint
from clients import blueprint as clients_blueprint
from orchestrators import blueprint as orchestrators_blueprint

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(orchestrators_blueprint)
app.register_functions(activities_blueprint)
app.register_functions(clients_blueprint)
