"""`pivotal up --mesh`: a development CA, one Envoy sidecar per service (mTLS with SPIFFE
identities, RBAC from the contracts), the gateway with its own identity."""
