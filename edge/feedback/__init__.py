"""我有话说: residents' problems, complaints, questions, help requests and suggestions, routed,
answered on a working-day clock, public by default (masked) and rated by the resident."""
