"""`python -m pivotal_mesh render [--check]`: regenerates the chart's mesh data
(helm/pivotal-flow/files/mesh-policy.json) and `mesh/` (the chart's Istio resources rendered
for users who do not use Helm). `--check` writes nothing and fails when either is stale."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str]) -> int:
    from pivotal_mesh import render

    parser = argparse.ArgumentParser(prog="python -m pivotal_mesh", description=__doc__)
    parser.add_argument("command", choices=["render"])
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    args = parser.parse_args(argv)
    stale = render.stale_files() if args.check else render.write_all()
    if args.check and stale:
        print("stale (run `python -m pivotal_mesh render`):\n  " + "\n  ".join(stale),
              file=sys.stderr)
        return 1
    for path in ([] if args.check else stale):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
