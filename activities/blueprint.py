"""The one ``df.Blueprint`` every activity in this package registers on (see orchestrators/)."""

import azure.durable_functions as df

blueprint = df.Blueprint()
