"""Run cchc-letters from a checkout: ``python cli.py generate data/sample/registrations.csv --out out``."""

from cchc_letters.cli import main

if __name__ == "__main__":
    main()
