"""Data generation support: understanding schema constraints that generated rows must satisfy."""
