"""rayopt.promptopt — see its issue; filled in by its own work."""
