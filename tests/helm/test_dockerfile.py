"""The container recipe: it parses, builds in stages, installs the wheel into a final stage
without build tools, runs as a non-root user, and its entrypoint (and every command the
chart gives it) is a real command of the package."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass

import pytest
import typer.main
from pivotal_runtime.cli import app

from tests.support.manifests import REPOSITORY, objects, render

DOCKERFILE = REPOSITORY / "Dockerfile"
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|build-essential|make|clang|git|curl|wget)\b")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int


def parse(text: str) -> list[Instruction]:
    """Dockerfile instructions: comments and parser directives skipped, `\\` continuations
    joined; an unknown instruction is an error (as `docker build` would say)."""
    known = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
             "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
    instructions, pending, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        start = start if pending else number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full, pending = pending + line, ""
        keyword, _, value = full.partition(" ")
        if keyword.upper() not in known:
            raise ValueError(f"line {start}: unknown instruction {keyword!r}")
        instructions.append(Instruction(keyword.upper(), value.strip(), start))
    if pending:
        raise ValueError("the file ends inside a continued line")
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    found: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            found.append([])
        elif not found:
            assert instruction.keyword == "ARG", f"line {instruction.line} before FROM"
            continue
        found[-1].append(instruction)
    return found


def exec_form(instruction: Instruction) -> list[str]:
    value = json.loads(instruction.value)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), instruction
    return value


INSTRUCTIONS = parse(DOCKERFILE.read_text())
FINAL = stages(INSTRUCTIONS)[-1]


def only(stage: list[Instruction], keyword: str) -> Instruction:
    (found,) = [i for i in stage if i.keyword == keyword]
    return found


def test_the_parser_refuses_what_docker_would():
    with pytest.raises(ValueError, match="unknown instruction"):
        parse("FROM python\nRUNN true\n")
    with pytest.raises(ValueError, match="continued"):
        parse("FROM python\nRUN true \\\n")


def test_it_builds_the_wheel_in_one_stage_and_installs_it_in_another():
    all_stages = stages(INSTRUCTIONS)
    assert len(all_stages) >= 2
    builder_runs = " ".join(i.value for i in all_stages[0] if i.keyword == "RUN")
    assert "pip wheel" in builder_runs and "--wheel-dir /wheels ." in builder_runs
    install = " ".join(i.value for i in FINAL if i.keyword == "RUN")
    assert "from=builder" in install and "--no-index" in install
    assert "pivotal-flow" in install


def test_the_final_stage_has_no_build_tools_and_no_sources():
    for instruction in FINAL:
        if instruction.keyword == "RUN":
            assert not BUILD_TOOLS.search(instruction.value.replace("--wheel-dir", "")), \
                instruction
        assert instruction.keyword not in ("COPY", "ADD") or "--from=builder" in \
            instruction.value, f"line {instruction.line}: the final stage copies sources"


def test_it_runs_as_a_non_root_user():
    user = only(FINAL, "USER").value.split(":")[0]
    assert user not in ("root", "0")
    assert user.isdigit(), "a numeric uid lets Kubernetes check runAsNonRoot"
    assert int(user) == _chart_run_as_user()


def _chart_run_as_user() -> int:
    deployment = next(i for i in objects(render({"secrets": {"existingSecret": "s"}}))
                      if i["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"]


def test_the_entrypoint_is_the_packages_console_script():
    entrypoint = exec_form(only(FINAL, "ENTRYPOINT"))
    scripts = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint == ["pivotal"] and "pivotal" in scripts
    assert scripts["pivotal"] == "pivotal_runtime.cli:app"


def test_the_default_command_and_the_charts_commands_are_real_subcommands():
    commands = typer.main.get_command(app).commands
    default = exec_form(only(FINAL, "CMD"))
    assert default == ["--help"]
    given = set()
    for item in objects(render({"secrets": {"existingSecret": "s"}})):
        if item["kind"] in ("Deployment", "Job"):
            for container in item["spec"]["template"]["spec"]["containers"]:
                given.add(tuple(container["args"]))
    assert {args[0] for args in given} == {"serve", "gateway", "migrate"}
    for args in given:
        command = commands[args[0]]
        if args[0] == "serve":
            (argument,) = [p for p in command.params if p.name == "service"]
            argument.process_value(command.make_context("serve", list(args[1:])), args[1])


def test_dockerignore_keeps_the_build_context_to_what_the_wheel_needs():
    ignored = (REPOSITORY / ".dockerignore").read_text().split()
    assert {".git", ".venv", "services/pivotal", "build", "tests"} <= set(ignored)
