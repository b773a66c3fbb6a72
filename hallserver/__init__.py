"""hallserver."""
