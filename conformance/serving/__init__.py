"""One contract-server kernel for the reference server and the simulators: routing from the OpenAPI documents,
parameters and bodies validated against the schemas they name, the error entries with field paths, idempotency
by the contract's ``x-idempotent-by``. The two keep their own behaviour around it (strict vs recording)."""
