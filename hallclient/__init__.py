"""hallclient."""
