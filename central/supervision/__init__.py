"""City and county 电子监察 at central over every township's ingested rows."""
