"""What the assistant accepts in one request: roles and size limits.

Dependency-free on purpose: serving/protocol.py rejects the same sizes early (naming the field)
without importing the conversation engine behind it.
"""

ROLES = ("system", "user", "assistant", "developer", "tool")
MAX_MESSAGES = 200          # messages per request
MAX_CHARS = 20_000          # characters per message
