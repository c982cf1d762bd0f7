"""devhost: run a v2-model Durable Functions Python app locally without the Functions host."""
