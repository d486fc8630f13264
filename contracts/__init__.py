"""Contract testing against the providers' documents (Schemathesis), and the pytest plugin."""
