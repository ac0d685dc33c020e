"""pacspdf: branded sample-report PDFs from structured content, mailed to enquirers."""

__version__ = "0.1.0"
