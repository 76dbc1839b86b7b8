"""Revision scripts, one per schema change, named ``NNNN_slug.py`` with revision id ``NNNN``."""
