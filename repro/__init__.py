"""repro: why does this only happen in production?"""

__version__ = "0.1.0"
