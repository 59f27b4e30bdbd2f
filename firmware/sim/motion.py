# Motion sources for the virtual clip's IMU fakes: a recording CSV (DESIGN.md's format,
# sensor frame) played back in real time, looping. Not part of the device firmware.


class CsvMotion:
    """Samples of a recording, linearly interpolated, read lazily (long files fit the heap)."""

    def __init__(self, path, loop=True):
        self.path = path
        self.loop = loop
        self._open()
        self._origin = None

    def _open(self):
        self.f = open(self.path)
        header = self.f.readline().strip()
        if header != "t,ax,ay,az,gx,gy,gz":
            raise ValueError("%s: header must be t,ax,ay,az,gx,gy,gz" % self.path)
        self.a = self._row()
        self.b = self._row()
        self.t0 = self.a[0]
        self.offset = 0.0

    def _row(self):
        line = self.f.readline()
        if not line:
            return None
        v = [float(x) for x in line.split(",")]
        return (v[0], v[4], v[5], v[6], v[1], v[2], v[3])  # t, gyro, accel

    def sample(self, t):
        if self._origin is None:
            self._origin = t
        rel = t - self._origin - self.offset + self.t0
        while self.b is not None and self.b[0] <= rel:
            self.a = self.b
            self.b = self._row()
        if self.b is None:
            if not self.loop:
                return self.a[1:]
            span = self.a[0] - self.t0
            self.f.close()
            self._open()
            self.offset += span
            return self.sample(t)
        a, b = self.a, self.b
        w = (rel - a[0]) / (b[0] - a[0]) if b[0] > a[0] else 0.0
        return tuple(a[i] + w * (b[i] - a[i]) for i in range(1, 7))
