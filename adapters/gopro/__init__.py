"""GoPro Cloud adapters (httpx), following shared/spec/gopro-cloud-api.md."""
