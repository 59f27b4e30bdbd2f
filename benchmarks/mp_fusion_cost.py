# Runs under MicroPython: cost of Fusion.update per sample and heap allocated per sample.
#   MICROPYPATH=.frozen:firmware micropython benchmarks/mp_fusion_cost.py
import gc
import math
import time

from clip.fusion import Fusion

N = 10000
N_NOGC = 200  # boxed floats fill the default 2 MB heap within ~400 updates


def samples():
    out = []
    for i in range(100):
        a = 0.3 * math.sin(i * 0.06)
        out.append((0.01, 0.3 * math.cos(i * 0.06), -0.02, -9.81 * math.sin(a), 0.05,
                    9.81 * math.cos(a)))
    return out


def feed(f, data, n):
    for i in range(n):
        s = data[i % len(data)]
        f.update(s[0], s[1], s[2], s[3], s[4], s[5], 0.005)


def main():
    f = Fusion()
    data = samples()
    feed(f, data, len(data))  # warm up: rates, first-sample initialisation
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    feed(f, data, N_NOGC)
    grown = gc.mem_alloc() - before
    gc.enable()
    gc.collect()
    t0 = time.ticks_us()
    feed(f, data, N)
    us = time.ticks_diff(time.ticks_us(), t0)
    print("Fusion.update: %.2f us/sample (gc on, %d updates); %.0f heap bytes/sample "
          "(gc disabled, %d updates)" % (us / N, N, grown / N_NOGC, N_NOGC))
    gc.collect()
    base = gc.mem_free()
    feed(f, data, N)
    gc.collect()
    print("heap free after %d more updates and a collection: %d bytes change" % (
        N, gc.mem_free() - base))


main()
