"""An app served at the root (routePrefix "") with the default task hub name."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello/{who}")
def hello(req: func.HttpRequest) -> str:
    return f"hello {req.route_params['who']}"


@app.route()
def unnamed_route(req: func.HttpRequest) -> str:
    return "the function name is the route"
