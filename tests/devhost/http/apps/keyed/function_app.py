"""Three routes, one per auth level, for devhost's --require-keys tests."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="open", auth_level=func.AuthLevel.ANONYMOUS)
def open_route(req: func.HttpRequest) -> str:
    return "open"


@app.route(route="function")
def function_route(req: func.HttpRequest) -> str:
    return "function"


@app.route(route="admin", auth_level=func.AuthLevel.ADMIN)
def admin_route(req: func.HttpRequest) -> str:
    return "admin"
