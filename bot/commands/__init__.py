"""Commands, platform-free: /digest, /paper, /digest-admin, status and health reports."""
