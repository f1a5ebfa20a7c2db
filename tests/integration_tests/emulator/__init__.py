"""The TIR emulator over real loopback sockets, driven by raw httpx only."""
