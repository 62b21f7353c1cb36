"""Backups on disk: taking, listing, checking and restoring them."""
