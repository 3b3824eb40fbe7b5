"""The mesh: who may call what, from the contracts, rendered as Istio resources (the Helm
chart and `mesh/`) and as the Envoy sidecars of the local mesh mode (`pivotal up --mesh`)."""
