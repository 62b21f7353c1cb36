"""Is a database what Mole expects? Reference schema, lineage, verification, sequences."""
