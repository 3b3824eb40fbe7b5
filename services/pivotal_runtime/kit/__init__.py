"""The runtime kit: what makes a new domain small (docs/architecture.md, "Building a new
domain from the kit").

Pure (a domain module may import them): `caller` (Caller), `resources` (Versioned,
load_for_change, check_etag), `masks` (UpdateMask, mask_fields), `paging` (page_request,
PageRequest), `money`, `field_reasons`.
Adapters: `repository` (VersionedRepository, keyset conditions), `idempotency`
(RequestKey, IdempotentRequests), `numbering` (NumberSeries), `jobs` (Job, JobRunner),
`tables`, `proto_types` (google.type converters, update_mask_of), `service_tokens`,
`entitlements`, `domain` (Domain, ServiceDeps, load_domain).
"""
