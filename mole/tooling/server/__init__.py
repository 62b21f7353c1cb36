"""Where the database runs: backends, the embedded server, client tools, administration, URLs."""
