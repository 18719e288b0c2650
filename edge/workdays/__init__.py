"""Working days: the Monday-Friday rule, holidays and 调休 make-up days, due dates and cards."""
