"""Where the database runs: backends, the local server, client tools, administration, URLs."""
