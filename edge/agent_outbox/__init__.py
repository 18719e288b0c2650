"""The server side of the agent app's offline outbox: its page, session probe and photos."""
