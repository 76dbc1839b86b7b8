"""The scheme language: models, YAML loading with located errors, graph checks,
diagrams and the working-day calendar. Pure data and pure functions."""
