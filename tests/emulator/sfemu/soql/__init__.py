"""The emulator's SOQL engine: ``execute(soql, source, url_prefix, now=None) -> SoqlResult``."""
from .engine import DEFAULT_URL_PREFIX, SoqlResult, execute

__all__ = ["DEFAULT_URL_PREFIX", "SoqlResult", "execute"]
