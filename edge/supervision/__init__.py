"""Supervision (电子监察): deadlines, yellow and red cards, reminders to staff."""
