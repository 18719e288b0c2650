"""Staff and resident accounts: who someone is, their role, jurisdiction and department."""
