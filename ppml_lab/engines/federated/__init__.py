"""engines/federated package."""
