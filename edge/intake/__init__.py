"""Agent intake at the village: the application form, photos, signature, receipt, follow-up."""
