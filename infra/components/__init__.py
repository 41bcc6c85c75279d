"""The system's resources, one ComponentResource per concern."""
