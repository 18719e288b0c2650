"""Signing in and out: password hashing, server-side sessions, CSRF, login lockout."""
