"""Route-server configuration: database -> context -> BIRD 2 config -> parse check."""
