"""Host-side tooling for Mole's database: backends, backups, verification.

Nothing here imports Django: `invoke --list` must stay fast, and the Compose
backend runs Django only inside its container.
"""
