"""An HTTP function that streams through azurefunctions-extensions-http-fastapi.

With that extension the worker serves the function on an HTTP server of its own and tells the
host its address (the ``HttpUri`` capability); the Functions host proxies requests there. devhost
has no such proxy, so it refuses the app at start-up, in one line.
"""

import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, StreamingResponse

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="stream", methods=[func.HttpMethod.GET])
async def stream(req: Request) -> StreamingResponse:
    async def numbers():
        for n in range(3):
            yield f"{n}\n"

    return StreamingResponse(numbers(), media_type="text/plain")
