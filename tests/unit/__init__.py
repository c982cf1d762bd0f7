"""Unit tests: orchestrators through the SDK's real replay, activities and HTTP clients directly."""
