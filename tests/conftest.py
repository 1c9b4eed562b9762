import sys
from pathlib import Path

# Let tests import the shared helpers in tests/docx_helpers.py.
sys.path.insert(0, str(Path(__file__).parent))
