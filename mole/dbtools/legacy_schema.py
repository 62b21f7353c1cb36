"""Where legacy data that today's models have no place for is kept instead of dropped.

Tables and columns moved here stay in the database (and in its dumps), outside
the `public` schema that Mole's models and the compliance check cover.
"""
LEGACY_SCHEMA = "legacy"
