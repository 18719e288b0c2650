"""SMS to residents and staff: templates, a durable outbox, gateways and the huey worker."""
