"""The application, top floor: the command line, the jobs it runs and the
scheduler. It may import every package below it; nothing imports it."""
