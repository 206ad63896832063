"""Settings, as the template's app.core.config offers them (read from the environment here)."""

import os


class Settings:
    @property
    def SQLALCHEMY_DATABASE_URI(self) -> str:
        return os.environ["DATABASE_URL"]


settings = Settings()
