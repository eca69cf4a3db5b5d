"""One module per CLI subcommand: ``HELP``, ``add_arguments(parser)``, ``execute(args, progress) -> Report``."""
