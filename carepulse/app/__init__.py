"""The explorer (`carepulse app`) and the read-only SQLAlchemy connection BI tools use.

Optional extra: `pip install -e '.[app]'` (pins in requirements-app.lock). Only
`carepulse.app.connection` is imported by code outside the app; it imports SQLAlchemy
lazily, so the core install (`make run`) never needs the extra.
"""
