"""The command feed: what central asks of each edge node, pulled by that node after its cursor."""
