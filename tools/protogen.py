"""One command for the contracts toolchain: `python -m tools.protogen` (or `make generate`).

It copies the third-party protos out of installed wheels, generates the Python stubs and type
stubs into `services/pivotal/`, and builds the descriptor set with buf (with imports, for the
gateway) into the same package (`services/pivotal/descriptors.binpb`): the single place
generated code lives (ignored by git, never edited), and what the wheel ships. `setup.py` runs
this same generator when a wheel is built.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
BUILD_DIR = ROOT / "build"
THIRD_PARTY_DIR = BUILD_DIR / "third_party"
PYTHON_OUT = ROOT / "services"
GENERATED_PACKAGE = PYTHON_OUT / "pivotal"
DESCRIPTOR_SET = GENERATED_PACKAGE / "descriptors.binpb"
THIRD_PARTY_PACKAGES = ("google/api", "google/type", "google/rpc")


def buf_binary() -> str:
    candidate = Path(sys.executable).parent / "buf"
    return str(candidate) if candidate.exists() else (shutil.which("buf") or "buf")


def _well_known_protos() -> Path:
    import grpc_tools

    return Path(grpc_tools.__file__).parent / "_proto"


def copy_third_party(target: Path = THIRD_PARTY_DIR) -> None:
    """Copies google/api, google/type and google/rpc protos from googleapis-common-protos
    (found by import, so that an isolated build environment's copy is used when building a
    wheel)."""
    if target.exists():
        shutil.rmtree(target)
    for package in THIRD_PARTY_PACKAGES:
        source = _package_dir(package.replace("/", "."))
        protos = sorted(source.glob("*.proto"))
        if not protos:
            raise SystemExit(f"no protos under {source}: is googleapis-common-protos installed?")
        (target / package).mkdir(parents=True, exist_ok=True)
        for proto in protos:
            shutil.copy2(proto, target / package / proto.name)


def _package_dir(package: str) -> Path:
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package} not found: is googleapis-common-protos installed?")
    return Path(next(iter(spec.submodule_search_locations)))


def run_buf(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([buf_binary(), *args], cwd=cwd, capture_output=True, text=True)


def build_descriptor_set(output: Path = DESCRIPTOR_SET, cwd: Path = ROOT) -> None:
    """Builds the FileDescriptorSet (with imports and source info) that Envoy loads."""
    output.parent.mkdir(parents=True, exist_ok=True)
    result = run_buf("build", "-o", str(output), cwd=cwd)
    if result.returncode != 0:
        raise SystemExit(f"buf build failed:\n{result.stdout}{result.stderr}")


def our_proto_files(proto_dir: Path = PROTO_DIR) -> list[str]:
    return sorted(str(p.relative_to(proto_dir)) for p in proto_dir.rglob("*.proto"))


def generate_python(out_dir: Path = PYTHON_OUT, proto_dir: Path = PROTO_DIR) -> None:
    """Generates *_pb2.py, *_pb2.pyi and *_pb2_grpc.py for every proto under proto/."""
    from grpc_tools import protoc

    package_dir = out_dir / "pivotal"
    if package_dir.exists():
        shutil.rmtree(package_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{proto_dir}",
        f"-I{THIRD_PARTY_DIR}",
        f"-I{_well_known_protos()}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *our_proto_files(proto_dir),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed (see the messages above)")
    for directory in [package_dir, *[d for d in package_dir.rglob("*") if d.is_dir()]]:
        (directory / "__init__.py").touch()
    (package_dir / "__init__.py").write_text(
        '"""Generated from proto/ by `make generate`. Do not edit."""\n'
    )


def main() -> None:
    copy_third_party()
    generate_python()  # first: it replaces the package folder the descriptor set goes into
    build_descriptor_set()
    print(f"generated {GENERATED_PACKAGE.relative_to(ROOT)} and {DESCRIPTOR_SET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
