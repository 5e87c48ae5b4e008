"""The one module-level application, for `flask --app wsgi` and gunicorn."""

import os

from app.factory import create_app
from config import CONFIGS

app = create_app(CONFIGS[os.environ.get("ATU_CONFIG", "development")])
