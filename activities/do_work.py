"""DoWork: a stand-in for a step of real work in SetStatusTest.

It does nothing slow on purpose: the sample is about the status set between two steps, and a
quick, pure activity keeps tests and demos fast and deterministic.
"""

from orchestrators.names import DO_WORK

from .blueprint import blueprint


@blueprint.function_name(name=DO_WORK)
@blueprint.activity_trigger(input_name="step", activity=DO_WORK)
def do_work(step: str) -> str:
    """Report the step as done."""
    return f"Done: {step}"
