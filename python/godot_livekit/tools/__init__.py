"""Developer tools: dev tokens, a local livekit-server, demos."""
