"""The API's routers, one module per area; ``api.app`` mounts each."""
