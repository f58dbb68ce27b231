"""The pages. Each only renders: figures come from named queries through ``dashboard.ui``."""
