"""What several test modules share: plain helper modules, and fixture modules registered by tests/conftest.py
(``pytest_plugins``). Test modules import from here, never from each other."""
