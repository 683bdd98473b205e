"""Outbound WeChat Official Account (公众号) API."""

from chalicelib.mp.client import MpClient, mp_api_base
from chalicelib.wecom.errors import OutsideServiceWindow

__all__ = ["MpClient", "OutsideServiceWindow", "mp_api_base"]
