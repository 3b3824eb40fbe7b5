"""The real buf on the real contracts: lint, breaking changes, descriptor set."""

import re

import pytest
from google.protobuf import descriptor_pb2

from tools import bufcheck
from tools.protogen import DESCRIPTOR_SET, ROOT


def test_contracts_lint_clean_with_standard_rules():
    result = bufcheck.lint()
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_breaking_change_against_the_committed_baseline():
    result = bufcheck.breaking_against_baseline()
    assert result.returncode == 0, result.stdout + result.stderr


def _first_message_with_fields(text: str) -> tuple[str, str]:
    match = re.search(r"^message (\w+) \{\n(?:\s*//.*\n)*\s*(\S[^;\n]*= (\d+);)", text, re.M)
    assert match, "no message with a field found"
    return match.group(2), match.group(3)


@pytest.mark.parametrize("change", ["remove", "renumber"])
def test_breaking_check_catches_a_removed_or_renumbered_field(tmp_path, change):
    edited = bufcheck.copy_workspace(tmp_path / "edited")
    target = edited / "proto/pivotal/quotation/v1/quote.proto"
    text = target.read_text()
    field_line, number = _first_message_with_fields(text)
    replacement = "" if change == "remove" else field_line.replace(f"= {number};", "= 999;")
    target.write_text(text.replace(field_line, replacement, 1))

    unchanged = bufcheck.breaking_against_baseline(bufcheck.copy_workspace(tmp_path / "same"))
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    result = bufcheck.breaking_against_baseline(edited)
    assert result.returncode != 0
    report = result.stdout + result.stderr
    assert "Previously present field" in report and "was deleted" in report, report


def test_the_command_line_gate_fails_on_a_breaking_change(tmp_path, capsys):
    edited = bufcheck.copy_workspace(tmp_path / "edited")
    target = edited / "proto/pivotal/quotation/v1/quote.proto"
    text = target.read_text()
    field_line, _ = _first_message_with_fields(text)
    target.write_text(text.replace(field_line, "", 1))
    baseline = tmp_path / "baseline.binpb"
    bufcheck.update_baseline(bufcheck.copy_workspace(tmp_path / "released"), baseline)

    assert bufcheck.breaking_against_baseline(edited, baseline).returncode != 0
    assert bufcheck.main([]) == 0, capsys.readouterr().out
    assert bufcheck.main(["--bogus"]) == 2


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
