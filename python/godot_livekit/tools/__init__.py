"""Developer tools shipped with the package: a local livekit-server and dev tokens."""
