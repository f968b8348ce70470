"""The audit log: an append-only, hash-chained record of every review action.

Domain only (no framework, no database): the records, their canonical encoding, the
`AuditLog` port, an in-memory adapter and the chain verifier. docs/audit.md explains it.
"""
