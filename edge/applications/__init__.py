"""Applications: intake at the village, routing through steps, decisions, tracking."""
