"""Review by township staff and department officers: the queue, the file, the decision."""
