"""Central's SMS: the edge's outbox kind on central's own `sms_outbox`, sent by `central follow`."""
