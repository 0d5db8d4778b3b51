"""The CLI suite's fixtures (defined beside the core CLI tests) for every CLI test file."""

from tests.cli.test_cli import data_dir, migrated_data_dir, run

__all__ = ["data_dir", "migrated_data_dir", "run"]
