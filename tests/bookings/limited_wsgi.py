"""The app under the testing configuration with the booking budget on, for gunicorn in the race tests."""

from app.factory import create_app
from config import TestingConfig

app = create_app(
    type("LimitedConfig", (TestingConfig,), {"RATELIMIT_ENABLED": True, "BOOKING_RATE_LIMIT": "5 per hour"})
)
