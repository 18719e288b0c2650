"""The kernel both nodes run on: database, migrations, settings, templating, i18n, sessions,
middleware, clock, masking. It imports no feature package (tests/test_structure.py)."""
