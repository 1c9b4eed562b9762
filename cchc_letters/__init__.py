"""cchc-letters: congratulation and condolence letters from civil-registration records."""

__version__ = "0.1.0"
