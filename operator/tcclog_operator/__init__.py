"""TccLog operator: one TccLog object in, a complete TCC Log installation out."""
