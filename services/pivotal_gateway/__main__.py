"""`python -m pivotal_gateway render|validate|openapi [file]`.

render    writes the Envoy configuration into PIVOTAL_GATEWAY_CONFIG_DIR (default: gateway/ in
          the state folder) and prints it (its path goes to stderr)
validate  renders it and runs `envoy --mode validate` on it
openapi   writes the OpenAPI spec (default docs/openapi.json)
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from pivotal_runtime.settings import load_settings

    from pivotal_gateway.config import render
    from pivotal_gateway.process import validate
    from pivotal_gateway.settings import GatewaySettings

    command = argv[0] if argv else "render"
    if command == "openapi":
        from pivotal_gateway import openapi

        openapi.main(argv[1:])
        return 0
    settings, gateway = load_settings(), load_settings(GatewaySettings)
    if command == "render":
        config = render(settings, gateway).config
        print(config.read_text(), end="")
        print(f"written to {config}", file=sys.stderr)
        return 0
    if command == "validate":
        result = validate(settings, gateway)
        print(result.stdout.strip() if result.returncode == 0 else result.stdout + result.stderr)
        return result.returncode
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
