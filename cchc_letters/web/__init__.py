"""The office web app (`cchc-letters serve`): pages over the same library calls as the CLI.

Nothing here decides anything about letters: reading, checking, generating, the ledger and
the templates are the library's; this package only takes forms, calls it and shows results.
"""

from cchc_letters.web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
