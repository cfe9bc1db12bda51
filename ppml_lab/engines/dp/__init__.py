"""engines/dp package."""
