"""Access: API keys with roles, the role/capability matrix, rate limits, lookup audit."""
