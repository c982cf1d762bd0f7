"""E1_SayHello: the greeting E1_HelloSequence chains three times."""

from orchestrators.names import SAY_HELLO

from .blueprint import blueprint


@blueprint.function_name(name=SAY_HELLO)
@blueprint.activity_trigger(input_name="city", activity=SAY_HELLO)
def say_hello(city: str) -> str:
    """Return ``"Hello {city}!"``."""
    return f"Hello {city}!"
