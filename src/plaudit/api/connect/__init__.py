"""HTTP plumbing shared by every Connect route: access (key, scope, rate limit) and caching."""
