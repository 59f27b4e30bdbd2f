# Small persistent state (settings, neutral posture) as JSON files written atomically: the new
# content goes to a temporary file that is then renamed over the old one, so a power cut
# leaves either the old or the new file, never a torn one (littlefs renames atomically).
import json
import os


class Store:
    def __init__(self, root="/"):
        self.root = root.rstrip("/")

    def path(self, name):
        return "%s/%s.json" % (self.root, name)

    def load(self, name, default=None):
        try:
            with open(self.path(name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return default  # absent, or unreadable: the caller validates and defaults

    def save(self, name, value):
        path = self.path(name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(value, f)
        os.rename(tmp, path)

    def remove(self, name):
        try:
            os.remove(self.path(name))
        except OSError:
            pass
