"""Jurisdictions: China's 12-digit administrative codes, city > county > township > village."""
