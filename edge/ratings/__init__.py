"""好差评: one rating per closed application, and a follow-up (整改) of every bad rating."""
