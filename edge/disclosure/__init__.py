"""阳光红页 public disclosure: the index, results disclosure, withholding and printable sheets."""
