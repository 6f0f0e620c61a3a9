import sys
from pathlib import Path

# The search tests import the toy model as a plain module from this folder.
sys.path.insert(0, str(Path(__file__).parent))
