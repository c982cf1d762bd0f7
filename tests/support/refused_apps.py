"""Apps Microsoft's worker refuses to index, shared by the tests that show devhost refusing them."""

DICT_ANNOTATED_ACTIVITY = (
    "from typing import Any\n"
    "import azure.durable_functions as df\n"
    "app = df.DFApp()\n"
    "@app.activity_trigger(input_name='payload')\n"
    "def Upload(payload: dict[str, Any]) -> dict[str, Any]:\n"
    "    return payload\n"
)
"""``dict[str, Any]`` on an activity parameter: "binding payload has invalid non-type annotation"
(Azure/azure-functions-durable-python#468), which fails the whole app on Azure."""

DICT_ANNOTATION_REFUSAL = (
    "FunctionLoadError: cannot load the Upload function: binding payload has invalid "
    "non-type annotation dict[str, typing.Any]"
)
