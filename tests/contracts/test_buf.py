"""The real buf on the real contracts: lint, breaking changes, descriptor set."""

import re
import subprocess

import pytest
from google.protobuf import descriptor_pb2

from tools import bufcheck
from tools.protogen import DESCRIPTOR_SET, ROOT


def test_contracts_lint_clean_with_standard_rules():
    result = bufcheck.lint()
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_breaking_change_against_main():
    has_main = subprocess.run(["git", "rev-parse", "--verify", "-q", "main"], cwd=ROOT,
                              capture_output=True).returncode == 0
    if not has_main:
        pytest.skip("no main branch in this checkout")
    result = bufcheck.breaking_against_ref("main")
    if result is not None:
        assert result.returncode == 0, result.stdout + result.stderr


def _first_message_with_fields(text: str) -> tuple[str, str]:
    match = re.search(r"^message (\w+) \{\n(?:\s*//.*\n)*\s*(\S[^;\n]*= (\d+);)", text, re.M)
    assert match, "no message with a field found"
    return match.group(2), match.group(3)


@pytest.mark.parametrize("change", ["remove", "renumber"])
def test_breaking_check_catches_a_removed_or_renumbered_field(tmp_path, change):
    base = bufcheck.copy_workspace(tmp_path / "base")
    image = tmp_path / "base.binpb"
    bufcheck.build_image(base, image)

    edited = bufcheck.copy_workspace(tmp_path / "edited")
    target = edited / "proto/pivotal/quotation/v1/quote.proto"
    text = target.read_text()
    field_line, number = _first_message_with_fields(text)
    replacement = "" if change == "remove" else field_line.replace(f"= {number};", "= 999;")
    target.write_text(text.replace(field_line, replacement, 1))

    unchanged = bufcheck.breaking(base, image)
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    result = bufcheck.breaking(edited, image)
    assert result.returncode != 0
    report = result.stdout + result.stderr
    assert "Previously present field" in report and "was deleted" in report, report


def test_descriptor_set_holds_every_service_with_its_imports():
    descriptors = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    names = {f.name for f in descriptors.file}
    # Imports the gateway needs to transcode and to render error details.
    for needed in ("google/api/annotations.proto", "google/api/http.proto",
                   "google/rpc/error_details.proto", "google/rpc/status.proto",
                   "google/type/money.proto", "google/protobuf/timestamp.proto"):
        assert needed in names, needed
    services = {f"{f.package}.{s.name}" for f in descriptors.file for s in f.service}
    for domain in ("identity", "quotation", "project", "time", "billing"):
        assert any(s.startswith(f"pivotal.{domain}.v1.") for s in services), domain
