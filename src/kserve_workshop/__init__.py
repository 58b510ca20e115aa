"""KServe workshop library."""
