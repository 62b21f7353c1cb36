"""Serving a copy of a bundle or backup in Mole, with a throw-away login."""
