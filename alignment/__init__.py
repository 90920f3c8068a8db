"""rayopt.alignment — see its issue; filled in by its own work."""
