"""Kehila: one async core for community bots on Discord, Telegram and the console."""

__version__ = "0.1.0"
