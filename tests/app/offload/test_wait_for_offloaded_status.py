"""The app's wait-for-status starter compares the resolved value of an offloaded status, not its
reference (in-process, with a stand-in durable client and real Azurite)."""

import json

import azure.durable_functions as df
import azure.functions as func
import pytest

from clients import blueprint as clients_blueprint
from custom_status import serialize, upload_status
from tests.app.fakes import FakeDurableClient, http_request, status_json
from tests.support.sized import make_value

BIG = {"kind": "rows", "bytes": 40_000}


@pytest.fixture(scope="module")
def client_function():
    """An HTTP function of the real app, below the SDK's client middleware (takes a client).

    Indexed through an app of their own: ``get_functions()`` refuses to run twice on one app,
    and ``function_app.app`` belongs to tests/app's session fixture.
    """
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    app.register_functions(clients_blueprint)
    functions = {f.get_function_name(): f for f in app.get_functions()}
    return lambda name: functions[name].get_user_function().client_function


async def test_wait_for_status_compares_the_resolved_value(app_settings, client_function):
    value = make_value(BIG)
    ref = await upload_status("instance-1", serialize(value))  # the fake client's first id
    client = FakeDurableClient()
    client.scripts["instance-1"] = [
        status_json("instance-1", "BatchProgress", custom_status=ref.to_status())
    ]

    def request(expected):
        return http_request(
            "POST",
            "/api/orchestrators/BatchProgress/wait-for-status",
            route_params={"functionName": "BatchProgress"},
            params={"status": json.dumps(expected), "timeout": "0"},
            json_body=60,
        )

    start_and_wait = client_function("StartAndWaitForStatus")
    response = await start_and_wait(req=request(value), client=client)
    assert response.status_code == 200  # matched the value, not the reference
    assert json.loads(response.get_body())["customStatus"] == value

    client.started.clear()
    response = await start_and_wait(req=request(ref.to_status()), client=client)
    assert response.status_code == 202  # the reference itself is not the status
