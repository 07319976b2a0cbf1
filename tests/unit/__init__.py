"""Unit tests of nova_imgmeta (pytest)."""
