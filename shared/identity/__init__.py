"""One identity across the services: API tokens, officials and the unit tree, learnt from events.

The assignments service owns officials and tokens. It publishes `unit.created.v1`,
`official.created.v1`/`official.updated.v1` and `api_token.issued.v1`/`api_token.revoked.v1`
(the token's SHA-256 only), and every other service keeps its own copy in the `identity_*`
tables of its own database, so it authenticates callers and applies the same scope rules without
reading another service's database.
"""
