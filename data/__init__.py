"""Small shipped fact tables (installed as the ``fietsstad.data`` package)."""
