"""devhost's RPC schema against an independent one: field numbers, types and bytes on the wire.

The reference is the FunctionRpc_pb2 that Microsoft generated for azure-functions-runtime-v1
1.2.0, which scripts/bootstrap.sh installs into .venv/runtime-v1 (not into site-packages: that
wheel also ships a top-level ``tests`` package). It declares the same message names in the same
package, so it is loaded by path into a descriptor pool of its own; in protobuf's default pool,
where devhost's module lives, the names would clash.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from unittest import mock

import pytest
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    json_format,
    timestamp_pb2,
)
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from devhost.workers import rpc

ROOT = Path(__file__).resolve().parents[3]
THEIR_PROTOS = ROOT / ".venv" / "runtime-v1" / "tests" / "protos"
THEIR_PACKAGE = "_runtime_v1_protos"
PACKAGE = "AzureFunctionsRpcMessages"


@pytest.fixture(scope="module")
def theirs() -> Iterator[ModuleType]:
    """Their ``protos`` package, its messages built in a private descriptor pool."""
    if not (THEIR_PROTOS / "FunctionRpc_pb2.py").is_file():
        pytest.skip(
            f"{THEIR_PROTOS} is missing: run scripts/bootstrap.sh, which installs "
            "azure-functions-runtime-v1 1.2.0 there for this test"
        )
    pool = descriptor_pool.DescriptorPool()
    for well_known in (duration_pb2, timestamp_pb2):
        pool.AddSerializedFile(well_known.DESCRIPTOR.serialized_pb)
    spec = importlib.util.spec_from_file_location(
        THEIR_PACKAGE, THEIR_PROTOS / "__init__.py", submodule_search_locations=[str(THEIR_PROTOS)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[THEIR_PACKAGE] = module
    try:
        # Their modules add their files to descriptor_pool.Default() when imported.
        with mock.patch.object(descriptor_pool, "Default", lambda: pool):
            spec.loader.exec_module(module)
        assert module.StreamingMessage.DESCRIPTOR.file.pool is pool
        yield module
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == THEIR_PACKAGE]:
            del sys.modules[name]


def _their_files(theirs: ModuleType) -> list:
    return [
        theirs.FunctionRpc_pb2.DESCRIPTOR,
        theirs.shared.NullableTypes_pb2.DESCRIPTOR,
        theirs.identity.ClaimsIdentityRpc_pb2.DESCRIPTOR,
    ]


def _short(full_name: str) -> str:
    """A type's name without the package: upstream keeps the nullable and identity types in none."""
    prefix = PACKAGE + "."
    return full_name[len(prefix) :] if full_name.startswith(prefix) else full_name


def _walk(descriptor: Descriptor) -> Iterator[Descriptor]:
    yield descriptor
    for nested in descriptor.nested_types:
        yield from _walk(nested)


def _messages(files: list) -> dict[str, Descriptor]:
    return {
        _short(d.full_name): d
        for file in files
        for top in file.message_types_by_name.values()
        for d in _walk(top)
    }


def _enums(messages: dict[str, Descriptor]) -> dict[str, EnumDescriptor]:
    return {_short(e.full_name): e for d in messages.values() for e in d.enum_types}


def _signature(field: FieldDescriptor) -> tuple:
    return (
        field.number,
        field.type,
        field.is_repeated,
        _short(field.message_type.full_name) if field.message_type else None,
        _short(field.enum_type.full_name) if field.enum_type else None,
        field.containing_oneof.name if field.containing_oneof else None,
    )


def _reserved_numbers(descriptor: Descriptor) -> set[int]:
    proto = descriptor_pb2.DescriptorProto()
    descriptor.CopyToProto(proto)
    return {n for r in proto.reserved_range for n in range(r.start, r.end)}


# --- The schema, declaration by declaration ---------------------------------------------------


def test_every_message_and_field_of_ours_is_published_with_the_same_number_and_type(theirs):
    ours, reference = _messages([rpc.DESCRIPTOR]), _messages(_their_files(theirs))
    assert set(ours) <= set(reference), "messages that the published schema does not have"
    mismatches = []
    for name, message in ours.items():
        their_fields = reference[name].fields_by_name
        for field in message.fields:
            if field.name not in their_fields:
                mismatches.append(f"{name}.{field.name}: not published")
            elif _signature(field) != _signature(their_fields[field.name]):
                mismatches.append(
                    f"{name}.{field.name}: ours {_signature(field)}, "
                    f"published {_signature(their_fields[field.name])}"
                )
    assert not mismatches, "\n".join(mismatches)


def test_published_fields_left_out_have_their_numbers_reserved(theirs):
    ours, reference = _messages([rpc.DESCRIPTOR]), _messages(_their_files(theirs))
    unreserved = [
        f"{name}.{field.name} = {field.number}"
        for name, message in ours.items()
        if not message.GetOptions().map_entry
        for field in reference[name].fields
        if field.name not in message.fields_by_name
        and field.number not in _reserved_numbers(message)
    ]
    assert not unreserved, "left out but not reserved:\n" + "\n".join(unreserved)


def test_every_enum_value_of_ours_is_published_with_the_same_number(theirs):
    ours = _enums(_messages([rpc.DESCRIPTOR]))
    reference = _enums(_messages(_their_files(theirs)))
    assert set(ours) <= set(reference)
    for name, enum in ours.items():
        ours_values = {v.name: v.number for v in enum.values}
        published = {v.name: v.number for v in reference[name].values}
        assert ours_values == published, name


def test_the_stream_and_its_frames_use_the_published_numbers():
    content = rpc.StreamingMessage.DESCRIPTOR.oneofs_by_name["content"]
    assert {f.name: f.number for f in content.fields} == {
        "rpc_log": 2,
        "invocation_request": 4,
        "invocation_response": 5,
        "function_load_request": 8,
        "function_load_response": 9,
        "worker_status_request": 12,
        "worker_status_response": 13,
        "worker_terminate": 14,
        "worker_heartbeat": 15,
        "worker_init_response": 16,
        "worker_init_request": 17,
        "start_stream": 20,
        "invocation_cancel": 21,
        "function_environment_reload_request": 25,
        "function_environment_reload_response": 26,
        "functions_metadata_request": 29,
        "function_metadata_response": 30,
    }
    assert rpc.StreamingMessage.DESCRIPTOR.fields_by_name["request_id"].number == 1
    service = rpc.DESCRIPTOR.services_by_name["FunctionRpc"]
    assert service.full_name == "AzureFunctionsRpcMessages.FunctionRpc"
    method = service.methods_by_name["EventStream"]
    assert method.client_streaming and method.server_streaming
    assert method.input_type is method.output_type is rpc.StreamingMessage.DESCRIPTOR


def test_the_module_exposes_every_message_as_an_attribute():
    for name, descriptor in rpc.DESCRIPTOR.message_types_by_name.items():
        assert getattr(rpc, name).DESCRIPTOR is descriptor
        assert name in rpc.__all__
    for name in ("FunctionRpcStub", "FunctionRpcServicer", "add_FunctionRpcServicer_to_server"):
        assert callable(getattr(rpc, name))


# --- Messages on the wire ---------------------------------------------------------------------


def _rpc_exception() -> rpc.RpcException:
    return rpc.RpcException(
        source="function_app.greet",
        stack_trace='Traceback (most recent call last):\n  File "function_app.py", line 9',
        message="ValueError: no name",
        is_user_exception=True,
        type="ValueError",
    )


def _request_http() -> rpc.RpcHttp:
    return rpc.RpcHttp(
        method="POST",
        url="http://127.0.0.1:7071/api/greet/ada?q=1&empty=",
        headers={"content-type": "application/json", "x-forwarded-for": "10.0.0.1"},
        query={"q": "1", "empty": ""},
        params={"name": "ada"},
        body=rpc.TypedData(bytes=b'{"greeting": "h\xc3\xa9llo"}'),
        rawBody=rpc.TypedData(bytes=b'{"greeting": "h\xc3\xa9llo"}'),
        nullable_headers={
            "content-type": rpc.NullableString(value="application/json"),
            "x-empty": rpc.NullableString(value=""),
        },
        nullable_query={"q": rpc.NullableString(value="1"), "absent": rpc.NullableString()},
        nullable_params={"name": rpc.NullableString(value="ada")},
        identities=[
            rpc.RpcClaimsIdentity(
                authentication_type=rpc.NullableString(value="WebJobsAuthLevel"),
                name_claim_type=rpc.NullableString(value="name"),
                role_claim_type=rpc.NullableString(),
                claims=[rpc.RpcClaim(type="http://schemas/authlevel", value="Function")],
            )
        ],
    )


def _response_http() -> rpc.RpcHttp:
    return rpc.RpcHttp(
        status_code="201",
        headers={"content-type": "application/json", "location": "/api/greet/ada"},
        body=rpc.TypedData(bytes=b'{"ok": true}'),
        enable_content_negotiation=True,
        cookies=[
            rpc.RpcHttpCookie(
                name="session",
                value="abc",
                domain=rpc.NullableString(value="example.org"),
                path=rpc.NullableString(value="/"),
                expires=rpc.NullableTimestamp(value=timestamp_pb2.Timestamp(seconds=1767225600)),
                secure=rpc.NullableBool(value=True),
                http_only=rpc.NullableBool(value=False),
                same_site=rpc.RpcHttpCookie.SameSite.ExplicitNone,
                max_age=rpc.NullableDouble(value=-1.5),
            ),
            rpc.RpcHttpCookie(name="bare", value=""),
        ],
    )


def _metadata(name: str, **extra: object) -> rpc.RpcFunctionMetadata:
    direction, data_type = rpc.BindingInfo.Direction, rpc.BindingInfo.DataType
    return rpc.RpcFunctionMetadata(
        name=name,
        function_id=f"id-{name}",
        directory="/home/site/wwwroot",
        script_file="function_app.py",
        entry_point=name,
        language="python",
        bindings={
            "req": rpc.BindingInfo(
                type="httpTrigger",
                direction=direction.Value("in"),
                data_type=data_type.Value("undefined"),
                properties={"authLevel": "FUNCTION"},
            ),
            "$return": rpc.BindingInfo(
                type="http", direction=direction.Value("out"), data_type=data_type.Value("string")
            ),
            "blob": rpc.BindingInfo(
                type="blob", direction=direction.Value("inout"), data_type=data_type.Value("binary")
            ),
        },
        raw_bindings=[
            json.dumps({"name": "req", "type": "httpTrigger", "direction": "IN"}),
            json.dumps({"name": "$return", "type": "http", "direction": "OUT"}),
        ],
        properties={"worker_indexed": "True"},
        status=rpc.StatusResult(status=rpc.StatusResult.Success),
        **extra,
    )


def _typed_values() -> list[rpc.ParameterBinding]:
    values = [
        rpc.TypedData(string="plain text ✓"),
        rpc.TypedData(json='{"n": 21, "nested": [1, 2.5, null]}'),
        rpc.TypedData(bytes=bytes(range(256))),
        rpc.TypedData(stream=b"\x00streamed"),
        rpc.TypedData(int=-(2**40)),
        rpc.TypedData(double=-0.125),
        rpc.TypedData(collection_string=rpc.CollectionString(string=["a", "", "ç"])),
        rpc.TypedData(collection_bytes=rpc.CollectionBytes(bytes=[b"\x00", b"\xff"])),
        rpc.TypedData(collection_double=rpc.CollectionDouble(double=[1.5, -2.0])),
        rpc.TypedData(collection_sint64=rpc.CollectionSInt64(sint64=[-1, 0, 2**62])),
        rpc.TypedData(
            model_binding_data=rpc.ModelBindingData(
                version="1.0",
                source="AzureStorageBlobs",
                content_type="application/json",
                content=b'{"Connection": "AzureWebJobsStorage"}',
            )
        ),
        rpc.TypedData(
            collection_model_binding_data=rpc.CollectionModelBindingData(
                model_binding_data=[rpc.ModelBindingData(version="1.0", source="a")]
            )
        ),
        rpc.TypedData(),
    ]
    return [rpc.ParameterBinding(name=f"value{i}", data=v) for i, v in enumerate(values)]


def _rpc_log() -> rpc.RpcLog:
    return rpc.RpcLog(
        invocation_id="inv-1",
        category="Function.greet.User",
        level=rpc.RpcLog.Error,
        message="something failed",
        event_id="42",
        exception=_rpc_exception(),
        properties='{"key": "value"}',
        log_category=rpc.RpcLog.RpcLogCategory.Value("System"),
        propertiesMap={"count": rpc.TypedData(int=3), "who": rpc.TypedData(string="ada")},
    )


SAMPLES: dict[str, Callable[[], rpc.StreamingMessage]] = {
    "start_stream": lambda: rpc.StreamingMessage(
        request_id="w1", start_stream=rpc.StartStream(worker_id="worker-1")
    ),
    "worker_init_request": lambda: rpc.StreamingMessage(
        request_id="r-init",
        worker_init_request=rpc.WorkerInitRequest(
            host_version="4.1040.0",
            capabilities={"RpcHttpBodyOnly": "true", "TypedDataCollection": "1"},
            log_categories={
                "Worker": rpc.RpcLog.Information,
                "Function.greet": rpc.RpcLog.Level.Value("None"),
            },
            worker_directory="/workers/python",
            function_app_directory="/home/site/wwwroot",
        ),
    ),
    "worker_init_response": lambda: rpc.StreamingMessage(
        request_id="r-init",
        worker_init_response=rpc.WorkerInitResponse(
            worker_version="1.3.0",
            capabilities={"RawHttpBodyBytes": "true", "WorkerStatus": "true"},
            result=rpc.StatusResult(status=rpc.StatusResult.Success, result="ok"),
            worker_metadata=rpc.WorkerMetadata(
                runtime_name="python",
                runtime_version="3.13",
                worker_version="1.3.0",
                worker_bitness="x86_64",
                custom_properties={"a": "b"},
            ),
        ),
    ),
    "worker_terminate": lambda: rpc.StreamingMessage(
        worker_terminate=rpc.WorkerTerminate(grace_period=timedelta(seconds=5, microseconds=250))
    ),
    "worker_heartbeat": lambda: rpc.StreamingMessage(worker_heartbeat=rpc.WorkerHeartbeat()),
    "worker_status_request": lambda: rpc.StreamingMessage(
        request_id="s1", worker_status_request=rpc.WorkerStatusRequest()
    ),
    "worker_status_response": lambda: rpc.StreamingMessage(
        request_id="s1", worker_status_response=rpc.WorkerStatusResponse()
    ),
    "functions_metadata_request": lambda: rpc.StreamingMessage(
        request_id="m1",
        functions_metadata_request=rpc.FunctionsMetadataRequest(
            function_app_directory="/home/site/wwwroot"
        ),
    ),
    "function_metadata_response": lambda: rpc.StreamingMessage(
        request_id="m1",
        function_metadata_response=rpc.FunctionMetadataResponse(
            function_metadata_results=[
                _metadata(
                    "greet",
                    retry_options=rpc.RpcRetryOptions(
                        max_retry_count=3,
                        retry_strategy="fixed_delay",
                        delay_interval=timedelta(seconds=5),
                    ),
                ),
                _metadata(
                    "tick",
                    is_proxy=True,
                    managed_dependency_enabled=True,
                    retry_options=rpc.RpcRetryOptions(
                        max_retry_count=-1,
                        retry_strategy=rpc.RpcRetryOptions.exponential_backoff,
                        minimum_interval=timedelta(seconds=1),
                        maximum_interval=timedelta(seconds=2147483647),
                    ),
                ),
            ],
            result=rpc.StatusResult(status=rpc.StatusResult.Success),
            use_default_metadata_indexing=True,
        ),
    ),
    "function_load_request": lambda: rpc.StreamingMessage(
        request_id="l1",
        function_load_request=rpc.FunctionLoadRequest(
            function_id="id-greet", metadata=_metadata("greet"), managed_dependency_enabled=True
        ),
    ),
    "function_load_response": lambda: rpc.StreamingMessage(
        request_id="l1",
        function_load_response=rpc.FunctionLoadResponse(
            function_id="id-greet",
            result=rpc.StatusResult(status=rpc.StatusResult.Success),
            is_dependency_downloaded=True,
        ),
    ),
    "invocation_request_http": lambda: rpc.StreamingMessage(
        request_id="i1",
        invocation_request=rpc.InvocationRequest(
            invocation_id="inv-1",
            function_id="id-greet",
            input_data=[rpc.ParameterBinding(name="req", data=rpc.TypedData(http=_request_http()))],
            trigger_metadata={
                "Query": rpc.TypedData(json='{"q": "1"}'),
                "name": rpc.TypedData(string="ada"),
                "Headers": rpc.TypedData(json='{"x-forwarded-for": "10.0.0.1"}'),
            },
            trace_context=rpc.RpcTraceContext(
                trace_parent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                trace_state="congo=t61rcWkgMzE",
                attributes={"OperationName": "greet"},
            ),
            retry_context=rpc.RetryContext(
                retry_count=1, max_retry_count=3, exception=_rpc_exception()
            ),
        ),
    ),
    "invocation_request_values": lambda: rpc.StreamingMessage(
        request_id="i2",
        invocation_request=rpc.InvocationRequest(
            invocation_id="inv-2", function_id="id-activity", input_data=_typed_values()
        ),
    ),
    "invocation_response_http": lambda: rpc.StreamingMessage(
        request_id="i1",
        invocation_response=rpc.InvocationResponse(
            invocation_id="inv-1",
            return_value=rpc.TypedData(http=_response_http()),
            output_data=[rpc.ParameterBinding(name="out", data=rpc.TypedData(json="[1, 2]"))],
            result=rpc.StatusResult(status=rpc.StatusResult.Success),
        ),
    ),
    "invocation_response_failure": lambda: rpc.StreamingMessage(
        request_id="i2",
        invocation_response=rpc.InvocationResponse(
            invocation_id="inv-2",
            result=rpc.StatusResult(
                status=rpc.StatusResult.Failure,
                result="failed",
                exception=_rpc_exception(),
                logs=[_rpc_log()],
            ),
        ),
    ),
    "invocation_response_cancelled": lambda: rpc.StreamingMessage(
        invocation_response=rpc.InvocationResponse(
            invocation_id="inv-3",
            return_value=rpc.TypedData(json='{"doubled": 42}'),
            result=rpc.StatusResult(status=rpc.StatusResult.Cancelled),
        )
    ),
    "invocation_cancel": lambda: rpc.StreamingMessage(
        invocation_cancel=rpc.InvocationCancel(
            invocation_id="inv-1", grace_period=timedelta(milliseconds=1500)
        )
    ),
    "rpc_log": lambda: rpc.StreamingMessage(rpc_log=_rpc_log()),
    "function_environment_reload_request": lambda: rpc.StreamingMessage(
        request_id="e1",
        function_environment_reload_request=rpc.FunctionEnvironmentReloadRequest(
            environment_variables={"FUNCTIONS_WORKER_RUNTIME": "python", "EMPTY": ""},
            function_app_directory="/home/site/wwwroot",
        ),
    ),
    "function_environment_reload_response": lambda: rpc.StreamingMessage(
        request_id="e1",
        function_environment_reload_response=rpc.FunctionEnvironmentReloadResponse(
            worker_metadata=rpc.WorkerMetadata(runtime_name="python"),
            capabilities={"WorkerOpenTelemetryEnabled": "true"},
            result=rpc.StatusResult(status=rpc.StatusResult.Failure, exception=_rpc_exception()),
        ),
    ),
}


def _as_dict(message: Message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def test_the_samples_cover_every_frame_and_every_field_of_ours():
    """So that a field added to the .proto without a sample here fails this test."""
    seen: set[str] = set()

    def visit(message: Message) -> None:
        for field, value in message.ListFields():
            seen.add(f"{_short(message.DESCRIPTOR.full_name)}.{field.name}")
            if field.message_type is None:
                continue
            if field.message_type.GetOptions().map_entry:
                value_field = field.message_type.fields_by_name["value"]
                items = value.values() if value_field.message_type is not None else []
            else:
                items = value if field.is_repeated else [value]
            for item in items:
                if item.DESCRIPTOR.file is rpc.DESCRIPTOR:
                    visit(item)

    for build in SAMPLES.values():
        visit(build())
    expected = {
        f"{name}.{field.name}"
        for name, message in _messages([rpc.DESCRIPTOR]).items()
        if not message.GetOptions().map_entry
        for field in message.fields
    }
    assert sorted(expected - seen) == []


@pytest.mark.parametrize("sample", SAMPLES)
def test_what_devhost_encodes_the_published_schema_decodes(theirs, sample):
    ours = SAMPLES[sample]()
    decoded = theirs.StreamingMessage.FromString(ours.SerializeToString())
    assert _as_dict(decoded) == _as_dict(ours)
    assert decoded.WhichOneof("content") == ours.WhichOneof("content")
    assert decoded.SerializeToString(deterministic=True) == ours.SerializeToString(
        deterministic=True
    )


@pytest.mark.parametrize("sample", SAMPLES)
def test_what_the_published_schema_encodes_devhost_decodes(theirs, sample):
    expected = SAMPLES[sample]()
    their_message = json_format.ParseDict(_as_dict(expected), theirs.StreamingMessage())
    decoded = rpc.StreamingMessage.FromString(their_message.SerializeToString())
    assert decoded == expected
    assert _as_dict(decoded) == _as_dict(their_message)
