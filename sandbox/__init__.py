"""The local world: emulated GoPro Cloud (and, later, emulated AWS) on loopback."""
