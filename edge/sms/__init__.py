"""SMS to residents and staff: templates, a kind of the kernel outbox, gateways, a worker job."""
