"""``repro bisect``: which differences between a good and a bad environment cause a failure
(delta debugging over ``repro diff``'s discrepancies, each step a ``repro replay`` sandbox)."""
