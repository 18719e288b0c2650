"""Web push to agents' and staff's devices: VAPID keys, subscriptions, an outbox, a sender."""
