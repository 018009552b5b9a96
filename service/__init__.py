"""The service layer every Yilu role (registry, root, issuer, verifier) is built on.

docs/architecture.md, "Service layer"; DESIGN.md, "Runtime" and "Command line contract".
Imports ``protocol`` and web libraries, never a party package: a party builds its app
with :func:`create_service_app` and adds its routes as routers. Storage (``service.db``,
``service.tokens``, ``service.audit``; docs/architecture.md, "Storage") is imported by the
roles that keep state, not here, so that an app without a database loads no SQLAlchemy.
"""

from service.app import create_service_app
from service.problems import problem
from service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_service_app", "problem"]
