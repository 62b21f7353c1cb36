"""Host-side tooling for Mole's database, arranged by job:

- `server`: where the database runs (backends: local, compose, url; the local server), the one
  owner of psql/pg_dump/pg_restore command lines, database administration, database URLs;
- `backups`: backups on disk, taking and restoring them;
- `compliance`: the reference schema, the lineage of Mole's history, verification, sequences;
- `legacy`: a legacy dump from input file to verified bundle (loading it safely, placing it in
  the history, drafting a custom migration, proving its data);
- `opening`: serving a copy of a bundle or backup in Mole.
What every job shares (errors, names, the process runner, settings, owners and debris of killed
runs, manifests) stays at the top. Nothing here imports Django: `invoke --list` must stay fast,
and the Compose backend runs Django only inside its container.
"""
