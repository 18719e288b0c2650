"""The append-only audit log, chained by hash so edits behind the app's back are found."""
