"""The platform every Kinerja service stands on. Knows no domain."""
