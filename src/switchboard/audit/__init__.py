"""Reading the audit trail (`GET /api/v1/audit`, `/api/v1/audit.csv`); it is written by
`switchboard.people.audit.audit_txn` in the transaction of each change."""
