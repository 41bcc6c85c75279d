"""A GoPro Cloud emulator: a real HTTP server on loopback that follows the contract."""
