"""Compiles ``function_rpc.proto`` into the Python modules committed next to it.

    python -m devhost.workers.rpc.generate [--out DIR]

Uses the pinned grpcio-tools (its bundled protoc and the well-known types it ships), so the
output only changes when the .proto or the pin does; a test regenerates into a temporary
directory and compares byte for byte. The .proto is compiled under its path from the repository
root, which names its descriptor ``devhost/workers/rpc/function_rpc.proto`` in protobuf's
default pool and gives the message classes their real module name. The one line the gRPC plugin
writes as an absolute import of the messages module is made relative, so the package also works
from another root or under another name.
"""

from __future__ import annotations

import argparse
import importlib.resources
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PROTO = HERE / "function_rpc.proto"
MESSAGES = "function_rpc_pb2.py"
STUBS = "function_rpc_pb2.pyi"
SERVICE = "function_rpc_pb2_grpc.py"
OUTPUTS = (MESSAGES, STUBS, SERVICE)

_ABSOLUTE_IMPORT = "from devhost.workers.rpc import function_rpc_pb2 as "
_RELATIVE_IMPORT = "from . import function_rpc_pb2 as "


def compile_proto() -> dict[str, bytes]:
    """The generated modules, by file name, as the committed files should read."""
    from grpc_tools import protoc

    well_known = importlib.resources.files("grpc_tools") / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        status = protoc.main(
            [
                "grpc_tools.protoc",
                f"--proto_path={ROOT}",
                f"--proto_path={well_known}",
                f"--python_out={tmp}",
                f"--pyi_out={tmp}",
                f"--grpc_python_out={tmp}",
                str(PROTO),
            ]
        )
        if status != 0:
            raise RuntimeError(f"protoc failed on {PROTO} (exit status {status})")
        generated = Path(tmp, PROTO.parent.relative_to(ROOT))
        outputs = {name: (generated / name).read_bytes() for name in OUTPUTS}

    service = outputs[SERVICE].decode()
    if service.count(_ABSOLUTE_IMPORT) != 1:
        raise RuntimeError(f"{SERVICE}: expected one line starting {_ABSOLUTE_IMPORT!r}")
    outputs[SERVICE] = service.replace(_ABSOLUTE_IMPORT, _RELATIVE_IMPORT).encode()
    return outputs


def generate(out_dir: Path = HERE) -> list[Path]:
    """Writes the generated modules into out_dir; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in compile_proto().items():
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devhost.workers.rpc.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--out", type=Path, default=HERE, help="directory to write to (default: next to the .proto)"
    )
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)


if __name__ == "__main__":
    main()
