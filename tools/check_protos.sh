#!/usr/bin/env bash
# Lints and compiles the protos of one domain without touching the shared build outputs:
#   tools/check_protos.sh quotation
set -euo pipefail
cd "$(dirname "$0")/.."
domain=${1:?domain}
.venv/bin/buf lint --path "proto/pivotal/$domain"
out=$(mktemp -d)
wkt=$(.venv/bin/python -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
.venv/bin/python -m grpc_tools.protoc -Iproto -Ibuild/third_party -I"$wkt" \
  --python_out="$out" --grpc_python_out="$out" $(cd proto && find "pivotal/$domain" -name '*.proto')
echo "ok: $domain lints clean and compiles"
rm -rf "$out"
