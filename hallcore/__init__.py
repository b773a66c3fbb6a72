"""hallcore."""
