"""docs/getting-started.md works as written: every `sh` block runs, in order, in one shell,
against a `pivotal up` this test starts on free ports (`localhost:8080` becomes that port;
`make run` is skipped: the test started it). Each `# ...` comment under a command is output
that block must print. The mail it reads is plain 7bit and its link answers."""

from __future__ import annotations

import email
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.gateway import http
from tests.support.processes import ROOT
from tests.support.up import up_environment, up_running

pytestmark = [pytest.mark.e2e]

GUIDE = ROOT / "docs" / "getting-started.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARK = "@@ block {} @@"


def shell_blocks(text: str) -> list[str]:
    return [block for block in BLOCK.findall(text) if not block.startswith("make run")]


def expected_lines(block: str) -> list[str]:
    return [line[2:] for line in block.splitlines() if line.startswith("# ")]


def test_the_guide_runs_as_written(tmp_path):
    env = up_environment(tmp_path)
    gateway = f"127.0.0.1:{env['PIVOTAL_GATEWAY_PORT']}"
    env["PIVOTAL_IDENTITY_PUBLIC_BASE_URL"] = f"http://{gateway}"  # where mailed links lead
    with up_running(tmp_path, env) as up:
        blocks = shell_blocks(GUIDE.read_text())
        assert len(blocks) >= 6, "the guide lost its commands"
        script = "set -euo pipefail\n" + "\n".join(
            f"printf '\\n{MARK.format(i)}\\n'\n{block}" for i, block in enumerate(blocks))
        script = script.replace("localhost:8080", gateway)
        workdir = tmp_path / "newcomer"
        workdir.mkdir()
        result = subprocess.run(["bash", "-c", script], cwd=workdir, capture_output=True,
                                text=True, timeout=300, check=False,
                                env={**os.environ, **env})
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        outputs = re.split(r"^@@ block \d+ @@$", result.stdout, flags=re.MULTILINE)[1:]
        for block, output in zip(blocks, outputs, strict=True):
            for line in expected_lines(block):
                assert line in output, (block, output)

        mail_folder = Path(env["PIVOTAL_STATE_DIR"]) / "mail"
        message = email.message_from_bytes(min(mail_folder.glob("*.eml")).read_bytes())
        assert message["Content-Transfer-Encoding"] == "7bit"  # tokens copyable as they are
        link = re.search(r"(http\S+)#token=", message.get_payload()).group(1)
        page = http("GET", link)
        assert page.status == 200 and b"/v1/invitations:accept" in page.body
        assert "Traceback" not in up.output()
