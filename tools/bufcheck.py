"""buf lint and breaking-change checks, usable from the test suite and the command line.

`python -m tools.bufcheck` lints, then checks the working tree's contracts against the
committed baseline of the released contracts, `proto/baseline/v1.binpb` (rule set FILE, from
buf.yaml). `python -m tools.bufcheck --update-baseline` rewrites the baseline from the
working tree: run it only when a version of the contracts is released (docs/contracts.md).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from tools.protogen import ROOT, THIRD_PARTY_DIR, copy_third_party, run_buf

# A buf image of the released contracts with their imports (buf needs them to read the image),
# without source info: comments may change freely.
BASELINE = ROOT / "proto" / "baseline" / "v1.binpb"
BASELINE_FLAGS = ("--exclude-source-info",)


def lint(cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_buf("lint", cwd=cwd)


def build_image(workspace: Path, output: Path, *flags: str) -> None:
    """Builds a buf image of a workspace (a folder with buf.yaml and proto/)."""
    if not (workspace / THIRD_PARTY_DIR.relative_to(ROOT)).exists():
        copy_third_party(workspace / THIRD_PARTY_DIR.relative_to(ROOT))
    result = run_buf("build", "-o", str(output), *flags, cwd=workspace)
    if result.returncode != 0:
        raise RuntimeError(f"buf build failed in {workspace}:\n{result.stderr}")


def export_git_ref(ref: str, target: Path, repo: Path = ROOT) -> bool:
    """Writes buf.yaml and proto/ as they are at `ref`; False when the ref has no contracts."""
    archive = subprocess.run(["git", "archive", "--format=tar", ref, "buf.yaml", "proto"],
                             cwd=repo, capture_output=True)
    if archive.returncode != 0:
        return False
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return True


def breaking(workspace: Path, against_image: Path) -> subprocess.CompletedProcess[str]:
    """Compares the workspace's contracts (built into one image) with an earlier image."""
    with tempfile.TemporaryDirectory() as scratch:
        current = Path(scratch) / "current.binpb"
        build_image(workspace, current)
        return run_buf("breaking", str(current), "--against", str(against_image),
                       "--config", str(workspace / "buf.yaml"), cwd=workspace)


def breaking_against_baseline(workspace: Path = ROOT,
                              baseline: Path = BASELINE) -> subprocess.CompletedProcess[str]:
    """Checks `workspace` against the committed baseline of the released contracts."""
    if not baseline.exists():
        raise FileNotFoundError(f"{baseline} is missing: run python -m tools.bufcheck "
                                "--update-baseline once, at the first release")
    return breaking(workspace, baseline)


def update_baseline(workspace: Path = ROOT, baseline: Path = BASELINE) -> None:
    """Rewrites the baseline from `workspace`'s contracts (on purpose, at a release)."""
    baseline.parent.mkdir(parents=True, exist_ok=True)
    build_image(workspace, baseline, *BASELINE_FLAGS)


def breaking_against_ref(ref: str = "main", workspace: Path = ROOT) -> subprocess.CompletedProcess[str] | None:
    """Checks `workspace` against the contracts at git `ref`; None when the ref has none."""
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "base"
        if not export_git_ref(ref, base):
            return None
        image = Path(scratch) / "base.binpb"
        build_image(base, image)
        return breaking(workspace, image)


def copy_workspace(target: Path) -> Path:
    """A scratch copy of buf.yaml, proto/ and the third-party protos, to edit freely."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "buf.yaml", target / "buf.yaml")
    shutil.copytree(ROOT / "proto", target / "proto")
    shutil.copytree(THIRD_PARTY_DIR, target / THIRD_PARTY_DIR.relative_to(ROOT))
    return target


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    result = lint()
    sys.stdout.write(result.stdout + result.stderr)
    if result.returncode != 0:
        return result.returncode
    if args == ["--update-baseline"]:
        update_baseline()
        print(f"wrote {BASELINE.relative_to(ROOT)}: commit it with the release")
        return 0
    if args:
        print("usage: python -m tools.bufcheck [--update-baseline]", file=sys.stderr)
        return 2
    against = breaking_against_baseline()
    sys.stdout.write(against.stdout + against.stderr)
    if against.returncode == 0:
        print(f"no breaking change against {BASELINE.relative_to(ROOT)}")
    return against.returncode


if __name__ == "__main__":
    raise SystemExit(main())
